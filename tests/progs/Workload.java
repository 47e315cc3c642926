// 8 threads with large arrays, then Runtime.exec of a child; prints results that
// must be identical with and without the shim.
import java.io.BufferedReader;
import java.io.InputStreamReader;

public class Workload {
    public static void main(String[] args) throws Exception {
        Thread[] t = new Thread[8];
        long[] sums = new long[8];
        for (int i = 0; i < 8; i++) {
            final int k = i;
            t[i] = new Thread(() -> {
                long[] a = new long[4 << 20]; // 32 MiB each
                for (int j = 0; j < a.length; j++) a[j] = j ^ k;
                long s = 0;
                for (long v : a) s += v;
                sums[k] = s;
            }, "worker-" + i);
            t[i].start();
        }
        for (Thread x : t) x.join();
        for (int i = 0; i < 8; i++) System.out.println("thread " + i + " sum " + sums[i]);
        Process p = Runtime.getRuntime().exec(new String[] {"sh", "-c", "echo child says hello; exit 7"});
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()));
        System.out.println("child: " + r.readLine());
        System.out.println("child exit " + p.waitFor());
    }
}

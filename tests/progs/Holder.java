// For the JVM flight-recorder test: a few threads that allocate a little and then wait,
// "READY" on stdout, then the main thread waits (the test kills it with SIGKILL).
public class Holder {
    static volatile long sink;

    public static void main(String[] args) throws Exception {
        Thread[] t = new Thread[4];
        java.util.concurrent.CountDownLatch up = new java.util.concurrent.CountDownLatch(4);
        for (int i = 0; i < 4; i++) {
            t[i] = new Thread(() -> {
                long[] a = new long[1 << 18]; // 2 MiB each
                for (int j = 0; j < a.length; j += 512) a[j] = j;
                sink += a[a.length - 512];
                up.countDown();
                try {
                    Thread.sleep(120000);
                } catch (InterruptedException e) {
                }
            }, "holder-" + i);
            t[i].setDaemon(true);
            t[i].start();
        }
        up.await();
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(120000);
    }
}

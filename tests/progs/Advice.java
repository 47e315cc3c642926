import java.nio.ByteBuffer;
import java.util.ArrayList;

/* Refusals in a JVM for overshim's advice tests: threads until the JVM cannot create one,
 * a direct buffer, a child process. Prints what happened; exits 0. */
public class Advice {
    public static void main(String[] a) throws Exception {
        switch (a[0]) {
        case "threads": {
            int n = 0;
            try {
                for (; n < 100000; n++) {
                    Thread t = new Thread(() -> { try { Thread.sleep(600000); } catch (InterruptedException e) { } });
                    t.setDaemon(true);
                    t.start();
                }
            } catch (OutOfMemoryError e) {
                System.out.println("threads started: " + n + "; " + e.getMessage());
            }
            break;
        }
        case "direct": {
            ArrayList<ByteBuffer> keep = new ArrayList<>();
            try {
                keep.add(ByteBuffer.allocateDirect(Integer.parseInt(a[1]) << 20));
                System.out.println("direct: ok");
            } catch (OutOfMemoryError e) {
                System.out.println("direct: " + e.getMessage());
            }
            break;
        }
        case "fork": {
            try {
                Process p = new ProcessBuilder("true").start();
                System.out.println("fork: exit " + p.waitFor());
            } catch (java.io.IOException e) {
                System.out.println("fork: " + e.getMessage());
            }
            break;
        }
        }
    }
}

import java.nio.ByteBuffer;
import java.util.ArrayList;

/* Refusals in a JVM for overshim's advice tests: threads until the JVM cannot create one,
 * a direct buffer, a child process. Prints what happened; exits 0. */
public class Advice {
    static native int writeSummary(); // tests/progs/summary_jni.c, loaded by "hold LIB"
    public static void main(String[] a) throws Exception {
        switch (a[0]) {
        case "vmsize": { // "vmsize SIZE PEAK": this JVM's VmSize now and its VmPeak, kB (/proc/self/status)
            String size = "", peak = "";
            for (String l : java.nio.file.Files.readAllLines(java.nio.file.Paths.get("/proc/self/status"))) {
                if (l.startsWith("VmSize:")) size = l.replaceAll("[^0-9]", "");
                if (l.startsWith("VmPeak:")) peak = l.replaceAll("[^0-9]", "");
            }
            System.out.println("vmsize " + size + " " + peak);
            break;
        }
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
        case "humongous": { // humongous MB: one array of MB MiB (G1 grows the heap for it in this thread)
            byte[] b = new byte[Integer.parseInt(a[1]) << 20];
            System.out.println("humongous: ok " + b.length);
            break;
        }
        case "mapfiles": { // mapfiles N DIR: N small files mapped and kept (Elasticsearch's pattern)
            ArrayList<java.nio.MappedByteBuffer> keep = new ArrayList<>();
            int n = 0;
            try {
                for (; n < Integer.parseInt(a[1]); n++) {
                    java.io.File f = new java.io.File(a[2], "seg" + n);
                    try (java.io.RandomAccessFile r = new java.io.RandomAccessFile(f, "rw")) {
                        r.setLength(4096);
                        keep.add(r.getChannel().map(java.nio.channels.FileChannel.MapMode.READ_WRITE, 0, 4096));
                    }
                    f.delete();
                }
                System.out.println("mapfiles: ok " + n);
            } catch (Throwable e) {
                System.out.println("mapfiles: " + n + " mapped; " + e);
            }
            break;
        }
        case "hold": { // hold [LIB]: print the pid, wait for a line on stdin (a running JVM to
                       // compare with jcmd), then have the shim write a summary (LIB: summary_jni)
                       // and wait for a second line, so that jcmd can read NMT again after it
            if (a.length > 1) System.load(a[1]);
            System.out.println("pid " + ProcessHandle.current().pid());
            System.out.flush();
            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
            in.readLine();
            if (a.length > 1) {
                int r = writeSummary();
                System.out.println("summary: " + r);
                System.out.flush();
                in.readLine();
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

// Thread-per-connection TCP echo server in plain Java (java.net only), the
// idiomatic blocking design. Run without compiling (JEP 330):
//
//     java examples/targets/JavaEcho.java 9000
//
// Prints `LISTENING <addr>` when ready. The JVM opens one AF_UNIX socket the
// first time a socket is closed (its NIO/poll wakeup machinery), which is not
// a leak: netrepro reports it as descriptor growth for information only.
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

public class JavaEcho {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        ServerSocket srv = new ServerSocket();
        srv.setReuseAddress(true);
        srv.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 128);
        System.out.println("LISTENING 127.0.0.1:" + srv.getLocalPort());
        System.out.flush();
        while (true) {
            Socket c = srv.accept();
            Thread t = new Thread(() -> serve(c));
            t.setDaemon(true);
            t.start();
        }
    }

    static void serve(Socket c) {
        try (c) {
            InputStream in = c.getInputStream();
            OutputStream out = c.getOutputStream();
            byte[] buf = new byte[65536];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
            }
        } catch (Exception e) {
            // A reset or broken pipe ends this connection only.
        }
    }
}

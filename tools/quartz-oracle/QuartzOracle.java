import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.util.Date;
import java.util.TimeZone;

import org.quartz.CronExpression;

/**
 * Differential-testing oracle for org.quartz.CronExpression (Quartz 2.3.2).
 *
 * <p>Reads request lines from stdin, one per line, tab separated:
 *
 * <pre>  zone \t expression \t startEpochMillis \t count</pre>
 *
 * and writes exactly one response line per request:
 *
 * <ul>
 *   <li>{@code ERR\t<ParseException message>} when {@code new CronExpression(expr)} rejects it;
 *   <li>{@code EXC\t<exception class>: <message>} when evaluation throws (Quartz accepts some
 *       expressions whose evaluation then fails, e.g. an empty minutes set);
 *   <li>{@code HANG\t...} when evaluation did not finish within {@code -Doracle.limitMs}
 *       (default 10 s): Quartz loops forever on some accepted expressions, e.g. {@code 0W};
 *   <li>otherwise up to {@code count} successive {@code getNextValidTimeAfter} results as epoch
 *       millis, tab separated, followed by the word {@code null} if Quartz returned null.
 * </ul>
 *
 * The expression column is taken verbatim (it may contain spaces, never tabs/newlines); a
 * literal backslash-t / backslash-n in it is decoded to TAB / LF so callers can send those too.
 * One JVM serves any number of requests.
 */
public final class QuartzOracle {
    public static void main(String[] args) throws Exception {
        BufferedReader in =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        BufferedWriter out =
                new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) {
                out.write("\n");
                continue;
            }
            String[] parts = line.split("\t", -1);
            if (parts.length != 4) {
                out.write("BAD\trequest needs 4 tab-separated columns\n");
                continue;
            }
            String zone = parts[0];
            String expr = decode(parts[1]);
            long start = Long.parseLong(parts[2]);
            int count = Integer.parseInt(parts[3]);
            CronExpression ce;
            try {
                ce = new CronExpression(expr);
            } catch (ParseException e) {
                out.write("ERR\t" + clean(e.getMessage()) + "\n");
                continue;
            } catch (RuntimeException e) {
                out.write("ERR\t" + clean(e.toString()) + "\n");
                continue;
            }
            ce.setTimeZone(TimeZone.getTimeZone(zone));
            out.write(evaluate(ce, start, count));
            out.write("\n");
        }
        out.flush();
    }

    /** Per-request time limit; Quartz loops forever on some accepted expressions (e.g. 0W). */
    private static final long LIMIT_MS = Long.getLong("oracle.limitMs", 10000L);

    @SuppressWarnings({"deprecation", "removal"})
    private static String evaluate(final CronExpression ce, final long start, final int count)
            throws InterruptedException {
        final StringBuilder sb = new StringBuilder();
        final boolean[] done = new boolean[1];
        Thread worker = new Thread(() -> {
            try {
                Date d = new Date(start);
                for (int k = 0; k < count; k++) {
                    d = ce.getNextValidTimeAfter(d);
                    if (k > 0) {
                        sb.append('\t');
                    }
                    if (d == null) {
                        sb.append("null");
                        break;
                    }
                    sb.append(d.getTime());
                }
            } catch (RuntimeException e) {
                sb.setLength(0);
                sb.append("EXC\t").append(clean(e.getClass().getName() + ": " + e.getMessage()));
            }
            synchronized (done) {
                done[0] = true;
            }
        });
        worker.setDaemon(true);
        worker.start();
        worker.join(LIMIT_MS);
        synchronized (done) {
            if (done[0]) {
                return sb.toString();
            }
        }
        try {
            worker.stop(); // JDK <= 19; otherwise the daemon thread just keeps spinning
        } catch (Throwable ignored) {
            // UnsupportedOperationException on newer JDKs
        }
        return "HANG\tno result within " + LIMIT_MS + " ms";
    }

    private static String decode(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(i + 1);
                if (n == 't') { sb.append('\t'); i++; continue; }
                if (n == 'n') { sb.append('\n'); i++; continue; }
                if (n == '\\') { sb.append('\\'); i++; continue; }
            }
            sb.append(c);
        }
        return sb.toString();
    }

    private static String clean(String s) {
        return String.valueOf(s).replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
    }
}

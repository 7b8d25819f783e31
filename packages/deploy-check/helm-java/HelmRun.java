import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Runs real Helm (helm-java's native library) on a chart, several jobs in one JVM:
 *
 *   java -cp 'lib/*' HelmRun.java <chart> <out-dir> <kube-version> <job>...
 *
 * Jobs:
 *   lint                        helm lint --strict: out/lint.txt, first line "failed=<bool>"
 *   template:<case>[:<values>]  helm template parley <chart> -n parley -f <values>... (comma
 *                               separated): out/<case>.yaml, or out/<case>.error with Helm's message
 *
 * Exit 0 when every job ran (a failed render is a result, written to its .error file).
 */
public class HelmRun {
  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println("usage: HelmRun <chart> <out-dir> <kube-version> <job>...");
      System.exit(2);
    }
    Path chart = Paths.get(args[0]);
    Path out = Files.createDirectories(Paths.get(args[1]));
    String kubeVersion = args[2];
    for (int i = 3; i < args.length; i++) {
      String job = args[i];
      if (job.equals("lint")) {
        LintResult r = new Helm(chart).lint().strict().call();
        StringBuilder text = new StringBuilder("failed=" + r.isFailed() + "\n");
        for (String m : r.getMessages()) text.append(m).append('\n');
        Files.write(out.resolve("lint.txt"), text.toString().getBytes(StandardCharsets.UTF_8));
      } else if (job.startsWith("template:")) {
        String[] parts = job.split(":", 3);
        String name = parts[1];
        TemplateCommand t = new Helm(chart).template().withName("parley").withNamespace("parley").withKubeVersion(kubeVersion);
        if (parts.length == 3 && !parts[2].isEmpty()) {
          for (String values : parts[2].split(",")) t = t.withValuesFile(Paths.get(values));
        }
        try {
          Files.write(out.resolve(name + ".yaml"), t.call().getBytes(StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
          Files.write(out.resolve(name + ".error"), String.valueOf(e.getMessage()).getBytes(StandardCharsets.UTF_8));
        }
      } else {
        System.err.println("unknown job " + job);
        System.exit(2);
      }
    }
  }
}

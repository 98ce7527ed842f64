package com.aiprod.pipeline.tools;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.emptyString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.matchesPattern;

import com.aiprod.pipeline.auth.AuthConfig;
import com.aiprod.pipeline.auth.AuthResult;
import com.aiprod.pipeline.auth.TokenVerifier;
import com.aiprod.pipeline.model.Principal;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DevTokenTest {
  @TempDir Path tmp;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return DevToken.run(
        args,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String stdout() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String stderr() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void mintsATokenTheVerifierAccepts() throws Exception {
    Path dir = tmp.resolve("dev-auth");
    int code =
        run(
            "--uid",
            "alice",
            "--tenant",
            "acme",
            "--role",
            "user",
            "--plan",
            "pro",
            "--ttl",
            "600",
            "--dev-auth-dir",
            dir.toString());
    assertThat(stderr(), code, equalTo(0));
    String token = stdout().trim();
    assertThat(stdout(), matchesPattern("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\n"));
    assertThat(Files.exists(dir.resolve("private-key.pem")), is(true));

    String payload =
        new String(Base64.getUrlDecoder().decode(token.split("\\.")[1]), StandardCharsets.UTF_8);
    assertThat(payload, containsString("\"iss\":\"https://securetoken.google.com/demo-aiprod\""));
    assertThat(payload, containsString("\"sign_in_provider\":\"custom\""));
    assertThat(payload, containsString("\"user_id\":\"alice\""));

    try (TokenVerifier verifier = TokenVerifier.create(AuthConfig.dev(null, dir.toString()))) {
      AuthResult result = verifier.verify("Bearer " + token);
      assertThat(result.toString(), result.isOk(), is(true));
      assertThat(result.principal(), equalTo(Principal.create("alice", "acme", "user", "pro")));
    }
  }

  @Test
  void reusesTheKeysAndHonoursProject() throws Exception {
    Path dir = tmp.resolve("keys");
    assertThat(
        run("--uid=bob", "--dev-auth-dir=" + dir, "--firebase-project=other-proj"), equalTo(0));
    String kid = Files.readString(dir.resolve("kid")).trim();
    assertThat(run("--uid", "carol", "--dev-auth-dir", dir.toString()), equalTo(0));
    assertThat(Files.readString(dir.resolve("kid")).trim(), equalTo(kid));
    String first = stdout().split("\n")[0];
    String header =
        new String(Base64.getUrlDecoder().decode(first.split("\\.")[0]), StandardCharsets.UTF_8);
    assertThat(header, containsString("\"kid\":\"" + kid + "\""));
    assertThat(header, containsString("\"alg\":\"RS256\""));
    try (TokenVerifier verifier =
        TokenVerifier.create(AuthConfig.dev("other-proj", dir.toString()))) {
      assertThat(verifier.verify("Bearer " + first).isOk(), is(true));
    }
  }

  @Test
  void badArgumentsExitWithUsage() {
    String dir = tmp.resolve("unused").toString();
    String[][] cases = {
      {},
      {"--tenant", "acme"},
      {"--uid"},
      {"--uid", "alice", "--ttl", "soon", "--dev-auth-dir", dir},
      {"--uid", "alice", "--ttl", "0", "--dev-auth-dir", dir},
      {"--uid", "alice", "--role", "root", "--dev-auth-dir", dir},
      {"--uid", "alice", "--plan", "gold", "--dev-auth-dir", dir},
      {"--uid", "alice", "--tenant", "../x", "--dev-auth-dir", dir},
      {"--uid", "alice@example.com", "--dev-auth-dir", dir},
      {"--uid", "alice", "--colour", "red"},
      {"--uid", "alice", "stray"},
      {"--uid", "alice", "--firebase-project", "Not_A_Project", "--dev-auth-dir", dir},
    };
    for (String[] args : cases) {
      out.reset();
      err.reset();
      assertThat(String.join(" ", args), run(args), equalTo(2));
      assertThat(stdout(), emptyString());
      assertThat(stderr(), containsString("Usage: aiprod dev-token"));
    }
    assertThat(Files.exists(Path.of(dir)), is(false));
  }
}

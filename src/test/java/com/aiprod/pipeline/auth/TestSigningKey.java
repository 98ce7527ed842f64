package com.aiprod.pipeline.auth;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.Map;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * An RSA key pair generated in memory for one test, with a self-signed X.509 certificate shaped
 * like one of Google's securetoken certificates and a random 40-hex-digit key id. Nothing is
 * written to disk.
 */
final class TestSigningKey {
  private static final SecureRandom RANDOM = new SecureRandom();

  final String kid;
  final KeyPair keyPair;
  final X509Certificate certificate;
  final String certificatePem;

  private TestSigningKey(String kid, KeyPair keyPair, X509Certificate certificate) {
    this.kid = kid;
    this.keyPair = keyPair;
    this.certificate = certificate;
    byte[] der;
    try {
      der = certificate.getEncoded();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    this.certificatePem =
        "-----BEGIN CERTIFICATE-----\n"
            + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der)
            + "\n-----END CERTIFICATE-----\n";
  }

  static TestSigningKey generate() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048);
      KeyPair keyPair = generator.generateKeyPair();
      byte[] kidBytes = new byte[20];
      RANDOM.nextBytes(kidBytes);
      String kid = HexFormat.of().formatHex(kidBytes);
      X500Name name = new X500Name("CN=securetoken.system.gserviceaccount.com");
      Instant now = Instant.now();
      X509Certificate certificate =
          new JcaX509CertificateConverter()
              .getCertificate(
                  new JcaX509v3CertificateBuilder(
                          name,
                          new BigInteger(64, RANDOM),
                          Date.from(now.minus(Duration.ofDays(1))),
                          Date.from(now.plus(Duration.ofDays(14))),
                          name,
                          keyPair.getPublic())
                      .build(
                          new JcaContentSignerBuilder("SHA256withRSA")
                              .build(keyPair.getPrivate())));
      return new TestSigningKey(kid, keyPair, certificate);
    } catch (Exception e) {
      throw new IllegalStateException("cannot generate a test signing key", e);
    }
  }

  PrivateKey privateKey() {
    return keyPair.getPrivate();
  }

  /** An RS256 token with this key's kid over {@code claims}. */
  String sign(Map<String, ?> claims) {
    return HostileTokens.rs256(HostileTokens.header("RS256", kid), claims, privateKey());
  }

  /** A Firebase-shaped ID token of {@code project} for {@code uid}, issued now, valid one hour. */
  String mint(String project, String uid) {
    return sign(HostileTokens.claims(project, uid));
  }
}

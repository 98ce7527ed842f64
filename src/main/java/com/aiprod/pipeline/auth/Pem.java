package com.aiprod.pipeline.auth;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;

/** PEM encoding and decoding of PKCS#8 private keys and X.509 certificates. */
final class Pem {
  static final String PRIVATE_KEY = "PRIVATE KEY";
  static final String CERTIFICATE = "CERTIFICATE";

  private Pem() {}

  /** Encodes DER bytes as a PEM block with 64-character lines and a trailing newline. */
  static String encode(String type, byte[] der) {
    String body =
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
  }

  /**
   * Returns the DER bytes of the first PEM block of {@code type} in {@code pem}.
   *
   * @throws IllegalArgumentException when there is no such block or its body is not base64
   */
  static byte[] decode(String type, String pem) {
    String begin = "-----BEGIN " + type + "-----";
    String end = "-----END " + type + "-----";
    int start = pem.indexOf(begin);
    int stop = start < 0 ? -1 : pem.indexOf(end, start + begin.length());
    if (start < 0 || stop < 0) {
      throw new IllegalArgumentException("no PEM block '" + type + "' found");
    }
    String body = pem.substring(start + begin.length(), stop);
    return Base64.getMimeDecoder().decode(body);
  }

  static PrivateKey parseRsaPrivateKey(String pem) throws GeneralSecurityException {
    return KeyFactory.getInstance("RSA")
        .generatePrivate(new PKCS8EncodedKeySpec(decode(PRIVATE_KEY, pem)));
  }

  static X509Certificate parseCertificate(String pem) throws CertificateException {
    return (X509Certificate)
        CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(decode(CERTIFICATE, pem)));
  }
}

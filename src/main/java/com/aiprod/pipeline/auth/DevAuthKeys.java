package com.aiprod.pipeline.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local key pair that dev mode trusts instead of Google's securetoken certificates (DESIGN §3).
 * A key directory holds:
 *
 * <ul>
 *   <li>{@value #PRIVATE_KEY_FILE}: RSA 2048 private key, PKCS#8 PEM, file mode 0600;
 *   <li>{@value #CERTIFICATE_FILE}: self-signed X.509 certificate of its public key, PEM;
 *   <li>{@value #KID_FILE}: the key id, the first 40 hex digits of the certificate's SHA-256.
 * </ul>
 *
 * <p>{@link #loadOrCreate} creates the files on first use; it holds a lock file while doing so and
 * moves every file into place atomically, so concurrent callers (threads or processes) all end up
 * with the same key pair.
 */
public final class DevAuthKeys {
  public static final String PRIVATE_KEY_FILE = "private-key.pem";
  public static final String CERTIFICATE_FILE = "certificate.pem";
  public static final String KID_FILE = "kid";
  static final String LOCK_FILE = ".lock";

  private static final Logger LOG = LoggerFactory.getLogger(DevAuthKeys.class);
  private static final int KEY_BITS = 2048;
  private static final Duration VALIDITY = Duration.ofDays(3650);
  private static final String SUBJECT = "CN=AIPROD dev auth, O=AIPROD (development only)";
  private static final ConcurrentHashMap<Path, Object> JVM_LOCKS = new ConcurrentHashMap<>();

  private final Path dir;
  private final String kid;
  private final PrivateKey privateKey;
  private final X509Certificate certificate;
  private final String certificatePem;

  private DevAuthKeys(
      Path dir,
      String kid,
      PrivateKey privateKey,
      X509Certificate certificate,
      String certificatePem) {
    this.dir = dir;
    this.kid = kid;
    this.privateKey = privateKey;
    this.certificate = certificate;
    this.certificatePem = certificatePem;
  }

  /**
   * Loads the key pair from {@code dir}, creating the directory and a new key pair first when the
   * files are not there yet.
   */
  public static DevAuthKeys loadOrCreate(Path dir) throws IOException {
    Path absolute = dir.toAbsolutePath().normalize();
    createDirectories(absolute);
    Object jvmLock = JVM_LOCKS.computeIfAbsent(absolute, p -> new Object());
    synchronized (jvmLock) {
      try (FileChannel channel =
              FileChannel.open(
                  absolute.resolve(LOCK_FILE),
                  StandardOpenOption.CREATE,
                  StandardOpenOption.WRITE);
          FileLock lock = channel.lock()) {
        if (missingFiles(absolute).isEmpty()) {
          return load(absolute);
        }
        create(absolute);
        return load(absolute);
      }
    }
  }

  /**
   * Loads an existing key pair from {@code dir}.
   *
   * @throws IOException naming the directory and {@code scripts/dev-token} when a file is missing,
   *     or describing what is wrong with a file that cannot be read
   */
  public static DevAuthKeys load(Path dir) throws IOException {
    Path absolute = dir.toAbsolutePath().normalize();
    List<String> missing = missingFiles(absolute);
    if (!missing.isEmpty()) {
      throw new IOException(
          "dev auth keys not found in "
              + absolute
              + " (missing "
              + String.join(", ", missing)
              + "): run scripts/dev-token once to create them, or point --devAuthDir at an"
              + " existing key directory");
    }
    String kid = Files.readString(absolute.resolve(KID_FILE), StandardCharsets.US_ASCII).trim();
    if (!kid.matches("[A-Za-z0-9._-]{1,128}")) {
      throw new IOException(
          "invalid key id in "
              + absolute.resolve(KID_FILE)
              + ": expected 1-128 characters [A-Za-z0-9._-]");
    }
    String keyPem = Files.readString(absolute.resolve(PRIVATE_KEY_FILE), StandardCharsets.US_ASCII);
    String certPem =
        Files.readString(absolute.resolve(CERTIFICATE_FILE), StandardCharsets.US_ASCII);
    PrivateKey privateKey;
    X509Certificate certificate;
    try {
      privateKey = Pem.parseRsaPrivateKey(keyPem);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IOException(
          "cannot read " + absolute.resolve(PRIVATE_KEY_FILE) + " as a PKCS#8 PEM RSA key", e);
    }
    try {
      certificate = Pem.parseCertificate(certPem);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IOException(
          "cannot read " + absolute.resolve(CERTIFICATE_FILE) + " as a PEM X.509 certificate", e);
    }
    if (!(certificate.getPublicKey() instanceof RSAKey)
        || !((RSAKey) certificate.getPublicKey())
            .getModulus()
            .equals(((RSAKey) privateKey).getModulus())) {
      throw new IOException(
          CERTIFICATE_FILE
              + " does not certify the key in "
              + PRIVATE_KEY_FILE
              + " (directory "
              + absolute
              + "): delete the directory and run scripts/dev-token to create a new pair");
    }
    warnIfReadableByOthers(absolute.resolve(PRIVATE_KEY_FILE));
    return new DevAuthKeys(absolute, kid, privateKey, certificate, certPem);
  }

  /** The key id that tokens carry in their {@code kid} header. */
  public String kid() {
    return kid;
  }

  public PrivateKey privateKey() {
    return privateKey;
  }

  public PublicKey publicKey() {
    return certificate.getPublicKey();
  }

  public X509Certificate certificate() {
    return certificate;
  }

  /** The certificate exactly as stored in {@value #CERTIFICATE_FILE}. */
  public String certificatePem() {
    return certificatePem;
  }

  /** The absolute key directory. */
  public Path dir() {
    return dir;
  }

  /**
   * The certificate document in the format Google serves for Firebase ID tokens: {@code {"<kid>":
   * "<certificate PEM>"}}.
   */
  public String certificateJson() {
    Map<String, String> json = new LinkedHashMap<>();
    json.put(kid, certificatePem);
    try {
      return new ObjectMapper().writeValueAsString(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> missingFiles(Path dir) {
    List<String> missing = new ArrayList<>();
    for (String name : List.of(PRIVATE_KEY_FILE, CERTIFICATE_FILE, KID_FILE)) {
      if (!Files.isRegularFile(dir.resolve(name))) {
        missing.add(name);
      }
    }
    return missing;
  }

  private static void create(Path dir) throws IOException {
    KeyPair keyPair;
    X509Certificate certificate;
    try {
      SecureRandom random = new SecureRandom();
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(KEY_BITS, random);
      keyPair = generator.generateKeyPair();
      certificate = SelfSigned.certificate(keyPair, random);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot create the dev auth key pair in " + dir, e);
    }
    byte[] der;
    try {
      der = certificate.getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot encode the dev auth certificate", e);
    }
    String kid = keyId(der);
    // The kid file goes first and comes back last: a directory with a kid file holds a whole pair.
    Files.deleteIfExists(dir.resolve(KID_FILE));
    String keyPem = Pem.encode(Pem.PRIVATE_KEY, keyPair.getPrivate().getEncoded());
    writeAtomically(dir, PRIVATE_KEY_FILE, keyPem, true);
    writeAtomically(dir, CERTIFICATE_FILE, Pem.encode(Pem.CERTIFICATE, der), false);
    writeAtomically(dir, KID_FILE, kid + "\n", false);
    LOG.info("Created dev auth key pair in {} (kid {})", dir, kid);
  }

  /**
   * The self-signed certificate, with BouncyCastle: the only class here that needs it, so that the
   * rest loads in the Dataflow jar, which has no BouncyCastle (dev mode is refused there anyway).
   */
  private static final class SelfSigned {
    static X509Certificate certificate(KeyPair keyPair, SecureRandom random)
        throws GeneralSecurityException {
      X500Name name = new X500Name(SUBJECT);
      Instant now = Instant.now();
      JcaX509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              name,
              new BigInteger(63, random).add(BigInteger.ONE),
              Date.from(now.minus(Duration.ofDays(1))),
              Date.from(now.plus(VALIDITY)),
              name,
              keyPair.getPublic());
      try {
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        return new JcaX509CertificateConverter()
            .getCertificate(
                builder.build(
                    new JcaContentSignerBuilder("SHA256withRSA").build(keyPair.getPrivate())));
      } catch (CertIOException | OperatorCreationException e) {
        throw new GeneralSecurityException("cannot build the dev auth certificate", e);
      }
    }
  }

  /** First 40 hex digits of the SHA-256 of the certificate's DER encoding. */
  static String keyId(byte[] certificateDer) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificateDer);
      return HexFormat.of().formatHex(digest).substring(0, 40);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  private static boolean isPosix(Path dir) {
    return dir.getFileSystem().supportedFileAttributeViews().contains("posix");
  }

  private static void createDirectories(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    if (isPosix(dir)) {
      Files.createDirectories(
          dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } else {
      Files.createDirectories(dir);
    }
  }

  private static void writeAtomically(Path dir, String name, String content, boolean secret)
      throws IOException {
    FileAttribute<?>[] attributes =
        isPosix(dir)
            ? new FileAttribute<?>[] {
              PosixFilePermissions.asFileAttribute(
                  PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--"))
            }
            : new FileAttribute<?>[0];
    Path temp = Files.createTempFile(dir, "." + name + ".", ".tmp", attributes);
    try {
      Files.writeString(temp, content, StandardCharsets.US_ASCII);
      if (isPosix(dir) && !secret) {
        // createTempFile applies the umask; make the public files world-readable explicitly.
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-r--r--"));
      }
      try {
        Files.move(
            temp,
            dir.resolve(name),
            StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  private static void warnIfReadableByOthers(Path file) {
    if (!isPosix(file)) {
      return;
    }
    try {
      Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
      if (permissions.contains(PosixFilePermission.GROUP_READ)
          || permissions.contains(PosixFilePermission.OTHERS_READ)) {
        LOG.warn("{} is readable by other users; run: chmod 600 {}", file, file);
      }
    } catch (IOException e) {
      LOG.debug("cannot read the permissions of {}", file, e);
    }
  }
}

package com.aiprod.pipeline.auth;

import com.aiprod.pipeline.model.Principal;
import java.io.Serializable;
import java.util.Objects;
import javax.annotation.Nullable;

/**
 * Outcome of verifying one {@code authorization} attribute. A failure carries a DESIGN §10 reason
 * code ({@code AUTH_MISSING}, {@code AUTH_INVALID}, {@code AUTH_EXPIRED}) and a message that never
 * contains the token.
 */
public final class AuthResult implements Serializable {
  private final @Nullable Principal principal;
  private final @Nullable String reasonCode;
  private final @Nullable String message;
  private final boolean forged;

  private AuthResult(
      @Nullable Principal principal,
      @Nullable String reasonCode,
      @Nullable String message,
      boolean forged) {
    this.principal = principal;
    this.reasonCode = reasonCode;
    this.message = message;
    this.forged = forged;
  }

  public static AuthResult ok(Principal principal) {
    return new AuthResult(Objects.requireNonNull(principal), null, null, false);
  }

  /**
   * @param forged true when the token looks deliberately forged (bad signature, alg none, HS*,
   *     unknown kid, tampered payload): such failures raise a SECURITY_ALERT.
   */
  public static AuthResult failure(String reasonCode, String message, boolean forged) {
    return new AuthResult(null, reasonCode, message, forged);
  }

  public boolean isOk() {
    return principal != null;
  }

  public Principal principal() {
    if (principal == null) {
      throw new IllegalStateException("failed authentication has no principal");
    }
    return principal;
  }

  public @Nullable String reasonCode() {
    return reasonCode;
  }

  public @Nullable String message() {
    return message;
  }

  public boolean forged() {
    return forged;
  }

  @Override
  public String toString() {
    return isOk()
        ? "AuthResult{ok " + principal + "}"
        : "AuthResult{" + reasonCode + ": " + message + "}";
  }
}

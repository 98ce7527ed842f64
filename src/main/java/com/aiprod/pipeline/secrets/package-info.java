/**
 * Secret sources: Secret Manager and local directories, resolved in {@code @Setup}, with a
 * SECRET_ACCESS audit event per version; values are never logged.
 */
package com.aiprod.pipeline.secrets;

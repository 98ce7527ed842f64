/**
 * Stage Authenticate: Firebase ID tokens verified (dev keys or Google's certificates), one
 * AUTH_SUCCESS or AUTH_FAILURE per message; the token never leaves this stage.
 */
package com.aiprod.pipeline.auth;

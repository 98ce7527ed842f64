/**
 * What every stage shares: stage tags, the guarded stage DoFn, dead-letter building, audit event
 * factory, refusals, outcome parts and the backend-health interface.
 */
package com.aiprod.pipeline.kernel;

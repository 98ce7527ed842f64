/**
 * The job store: Firestore job documents (monotonic writes, lookups, resumption) and the clients
 * every stage that reads or writes them opens from a serializable factory.
 */
package com.aiprod.pipeline.jobstore;

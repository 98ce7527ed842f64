package com.aiprod.pipeline.persist;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.annotation.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One read-write DuckDB connection per database file per JVM, shared by every writer and
 * reference-counted. DuckDB lets a single process hold a file open for writing, so all {@link
 * DuckDbWarehouse} DoFn instances of a JVM use the same connection, one transaction at a time
 * ({@link Handle#inTransaction}). When the last user releases it, the database is checkpointed (WAL
 * merged into the file) and closed, so another process can open it; a shutdown hook does the same
 * for anything still open when the JVM exits.
 *
 * <p>Shared between processes ({@link #acquire(String, boolean)}, e.g. the TaskManagers of a Flink
 * cluster on one machine): no connection is kept; each transaction takes an exclusive file lock on
 * {@code PATH.lock}, opens the database, commits, checkpoints and closes it, so the writers of
 * every process take turns.
 */
final class DuckDbConnections {
  private static final Logger LOG = LoggerFactory.getLogger(DuckDbConnections.class);
  private static final Map<String, Handle> OPEN = new HashMap<>();
  private static final long READER_WAIT_MILLIS = 30_000;

  static {
    Runtime.getRuntime()
        .addShutdownHook(new Thread(DuckDbConnections::closeAll, "duckdb-connections-close"));
  }

  private DuckDbConnections() {}

  /** A unit of work on the shared connection. */
  interface SqlWork<T> {
    T run(Connection connection) throws SQLException;
  }

  /** A reference to the shared connection of one file; release it exactly once. */
  static final class Handle {
    private final String path;
    private final @Nullable Connection connection; // null: shared between processes
    private int references;

    private Handle(String path, @Nullable Connection connection) {
      this.path = path;
      this.connection = connection;
    }

    /** Runs {@code work} in one transaction, committed on success, rolled back on failure. */
    synchronized <T> T inTransaction(SqlWork<T> work) throws SQLException {
      if (connection == null) {
        return inLockedTransaction(work);
      }
      return inTransaction(connection, work);
    }

    /** Shared between processes: under the file lock, on a connection of its own. */
    private <T> T inLockedTransaction(SqlWork<T> work) throws SQLException {
      try (FileChannel lockFile =
              FileChannel.open(
                  Path.of(path + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock lock = lockFile.lock()) {
        try (Connection c = openWaitingForReaders(path)) {
          T result = inTransaction(c, work);
          try (Statement s = c.createStatement()) {
            s.execute("CHECKPOINT");
          }
          return result;
        }
      } catch (java.io.IOException e) {
        throw new SQLException("Cannot lock " + path + ".lock", e);
      }
    }

    /**
     * Opens {@code path}, waiting up to {@value #READER_WAIT_MILLIS} ms while another process that
     * does not take the file lock (a reader such as {@code scripts/query}) holds the database.
     */
    private static Connection openWaitingForReaders(String path) throws SQLException {
      long until = System.currentTimeMillis() + READER_WAIT_MILLIS;
      while (true) {
        try {
          return open(path);
        } catch (SQLException e) {
          String m = String.valueOf(e.getMessage());
          if (!m.contains("Could not set lock") || System.currentTimeMillis() > until) {
            throw e;
          }
          try {
            Thread.sleep(200);
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw e;
          }
        }
      }
    }

    private static <T> T inTransaction(Connection connection, SqlWork<T> work) throws SQLException {
      connection.setAutoCommit(false);
      try {
        T result = work.run(connection);
        connection.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        try {
          connection.rollback();
        } catch (SQLException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw e;
      } finally {
        connection.setAutoCommit(true);
      }
    }

    String path() {
      return path;
    }
  }

  /** Opens (or shares) the connection of {@code path}, creating parent directories. */
  static Handle acquire(String path) throws SQLException {
    return acquire(path, false);
  }

  /**
   * Like {@link #acquire(String)}; with {@code betweenProcesses} no connection is kept open (see
   * the class comment). One file is used in one mode per JVM: the first acquire decides.
   */
  static synchronized Handle acquire(String path, boolean betweenProcesses) throws SQLException {
    Handle h = OPEN.get(path);
    if (h == null) {
      try {
        Path parent = Path.of(path).getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
      } catch (java.io.IOException e) {
        throw new SQLException("Cannot create the directory of " + path, e);
      }
      h = new Handle(path, betweenProcesses ? null : open(path));
      OPEN.put(path, h);
    }
    h.references++;
    return h;
  }

  /** Releases one reference; the last one checkpoints and closes the file. */
  static synchronized void release(Handle h) {
    if (OPEN.get(h.path) != h || h.references <= 0) {
      return;
    }
    h.references--;
    if (h.references == 0) {
      OPEN.remove(h.path);
      close(h);
    }
  }

  /** Number of open shared connections (for tests and diagnostics). */
  static synchronized int openCount() {
    return OPEN.size();
  }

  static synchronized void closeAll() {
    List<Handle> all = new ArrayList<>(OPEN.values());
    OPEN.clear();
    for (Handle h : all) {
      close(h);
    }
  }

  /**
   * A new connection to {@code path}, from DuckDB's driver itself: {@code DriverManager} refuses a
   * driver registered by another class loader (a Flink TaskManager's user code loader).
   */
  static Connection open(String path) throws SQLException {
    return new org.duckdb.DuckDBDriver().connect("jdbc:duckdb:" + path, new java.util.Properties());
  }

  private static void close(Handle h) {
    if (h.connection == null) {
      return;
    }
    synchronized (h) {
      try (Statement s = h.connection.createStatement()) {
        s.execute("CHECKPOINT");
      } catch (SQLException e) {
        LOG.warn("CHECKPOINT of {} failed: {}", h.path, e.getMessage());
      }
      try {
        h.connection.close();
      } catch (SQLException e) {
        LOG.warn("Closing {} failed: {}", h.path, e.getMessage());
      }
    }
  }
}

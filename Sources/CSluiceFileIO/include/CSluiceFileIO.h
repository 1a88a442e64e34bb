#ifndef CSLUICEFILEIO_H
#define CSLUICEFILEIO_H

/// Starts writing the dirty pages of a file range to disk without waiting for them (Linux `sync_file_range`
/// with `SYNC_FILE_RANGE_WRITE`), so the `fsync` that ends a large file finds little left to do. glibc declares
/// `sync_file_range` only under `_GNU_SOURCE`, which Swift's Glibc module does not define; this shim is the
/// whole module, and `SluiceExport/AtomicFileOutput.swift` its only user. Elsewhere it does nothing.
/// Returns 0, or -1 with errno set.
int sluice_start_writeback(int fd, long long offset, long long length);

#endif

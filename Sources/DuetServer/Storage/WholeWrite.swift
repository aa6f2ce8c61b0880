import Foundation

/// write(2) until every byte is on its way, as the server's own files need: a short write is
/// resumed and EINTR retried, so the only way out early is a real failure, whose errno the
/// caller turns into its own typed error (through `StorageFailure(errno:)`).
enum WholeWrite {
    /// 0 when all of `bytes` was written, else the errno of the write that failed (ENOSPC
    /// when the disk filled part-way: some bytes may have been written before it).
    static func write(_ bytes: [UInt8], to fd: Int32) -> Int32 {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += count
        }
        return 0
    }
}

import Foundation

/// The server's data directory, made and checked before anything is opened in it. A server
/// that cannot write there must not start and fail later, one confusing SQLite or certificate
/// error at a time: `prepare` proves a write works (a file created, written, synced and
/// removed) and otherwise throws one line naming the path, what failed and what to do.
enum DataDirectory {
    /// Left behind only if the server dies between creating and removing it; harmless.
    static let probeName = ".duet-write-check"

    /// Makes `path` (mode 0700, parents too) if needed and checks it takes a write.
    static func prepare(_ path: String) throws(ServerStartupError) -> URL {
        try makeDirectories(path)
        try probeWrite(in: path)
        return URL(fileURLWithPath: path, isDirectory: true)
    }

    /// Creates each missing component in turn, so the error names the one that failed — in
    /// particular a component that exists but is a file.
    private static func makeDirectories(_ path: String) throws(ServerStartupError) {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var prefix = ""
        for component in absolute.split(separator: "/") {
            prefix += "/" + component
            var status = stat()
            if stat(prefix, &status) == 0 {
                guard status.st_mode & S_IFMT == S_IFDIR else {
                    throw .dataDirectory(
                        "cannot use \(path) as the data directory: \(prefix) is a file, not a directory; move that file away, or choose another directory with --data DIR"
                    )
                }
                continue
            }
            guard mkdir(prefix, 0o700) == 0 || errno == EEXIST else {
                throw failure(
                    "cannot create the data directory \(path)", at: prefix == absolute ? nil : prefix, errno: errno, directory: path)
            }
        }
    }

    private static func probeWrite(in path: String) throws(ServerStartupError) {
        let probe = path + "/" + probeName
        let fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw failure("cannot write in the data directory \(path)", at: nil, errno: errno, directory: path) }
        defer { unlink(probe) }
        var code = WholeWrite.write([0], to: fd)
        if code == 0, fsync(fd) != 0 { code = errno }
        close(fd)
        guard code == 0 else { throw failure("cannot write in the data directory \(path)", at: nil, errno: code, directory: path) }
    }

    private static func failure(_ what: String, at component: String?, errno code: Int32, directory: String) -> ServerStartupError {
        let place = component.map { " (at \($0))" } ?? ""
        return .dataDirectory(
            "\(what)\(place): \(String(cString: strerror(code))); \(StorageFailure(errno: code).advice(directory: directory))")
    }
}

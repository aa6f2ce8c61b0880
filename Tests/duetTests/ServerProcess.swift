import Foundation

/// A real `duet server` child process (on ephemeral loopback ports unless told otherwise, or
/// inside a `NetworkLab` host's namespace), stopped with SIGINT.
final class ServerProcess {
    let process = Process()
    let dataDirectory: URL
    private(set) var signaling = ""
    private(set) var fingerprint = ""

    enum StartError: Error { case noAddress(String) }

    /// What the server printed before it started serving (its addresses, its fingerprint).
    private(set) var banner = ""

    init(
        dataDirectory: URL, listen: String = "127.0.0.1:0", media: String = "127.0.0.1:0", extraArguments: [String] = [],
        namespace: String? = nil
    ) throws {
        self.dataDirectory = dataDirectory
        let arguments = ["server", "--listen", listen, "--media", media, "--data", dataDirectory.path] + extraArguments
        DuetCommandLine.aim(process, at: arguments, in: namespace)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The banner arrives line by line; read until the certificate line (or EOF).
        let handle = out.fileHandleForReading
        while !banner.contains("certificate") {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            banner += String(decoding: chunk, as: UTF8.self)
        }
        for line in banner.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.first == "signaling", fields.count > 1 { signaling = String(fields[1]) }
            if fields.first == "certificate", fields.count > 2 { fingerprint = String(fields[2]) }
        }
        guard !signaling.isEmpty else {
            stop()
            throw StartError.noAddress(banner)
        }
    }

    func stop() {
        guard process.isRunning else { return }
        process.interrupt()
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// A loopback TCP port that was free a moment ago (for tests that restart a server on the
/// same address).
func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
            bind(fd, sa, length)
            return getsockname(fd, sa, &length)
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

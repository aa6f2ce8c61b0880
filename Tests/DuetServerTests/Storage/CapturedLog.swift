import Logging
import Synchronization

/// A logger whose lines a test can read back: (level, message) in order.
final class CapturedLog: Sendable {
    private let lines = Mutex<[(Logger.Level, String)]>([])

    var logger: Logger {
        var logger = Logger(label: "duet.server.test") { _ in Handler(log: self) }
        logger.logLevel = .info
        return logger
    }

    func messages(at level: Logger.Level) -> [String] { lines.withLock { $0.filter { $0.0 == level }.map(\.1) } }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(
            level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String,
            line: UInt
        ) {
            let extra = self.metadata.merging(metadata ?? [:]) { $1 }
            let text =
                extra.isEmpty
                ? message.description
                : "\(message) \(extra.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))"
            log.lines.withLock { $0.append((level, text)) }
        }
    }
}

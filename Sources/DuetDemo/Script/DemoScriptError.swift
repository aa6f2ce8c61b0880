/// Why a script was refused before anything ran: where, and what to write instead.
public struct DemoScriptError: Error, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `tour.duet:12: call: 'eve' is not a device of this script (declare it with 'devices')`
    public var description: String { "\(file):\(line): \(message)" }
}

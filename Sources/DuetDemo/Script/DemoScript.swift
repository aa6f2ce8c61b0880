import Foundation

/// A demo story (docs/demo.md "The script language"): one command a line, `#` starts a comment, arguments are words or
/// "quoted text". The whole file is parsed and checked — every name declared before use,
/// every argument well formed — before anything runs, so a typo on line 80 costs no server.
public struct DemoScript: Sendable, Equatable {
    /// One command and the line it came from.
    public struct Step: Sendable, Equatable {
        public let line: Int
        /// The line as written, without its comment.
        public let text: String
        public let command: DemoCommand
    }

    public let file: String
    public let steps: [Step]

    /// Parses and checks `text`; `file` names it in errors.
    public init(parsing text: String, file: String) throws(DemoScriptError) {
        self.file = file
        var checker = DemoScriptChecker()
        var steps: [Step] = []
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = index + 1
            let words: [String]
            do { words = try Self.words(of: String(raw)) } catch {
                throw DemoScriptError(file: file, line: line, message: error.message)
            }
            guard !words.isEmpty else { continue }
            do {
                let command = DemoScriptChecker.resolve(try DemoCommandParser.parse(words), groups: checker.groupNames)
                try checker.check(command)
                steps.append(Step(line: line, text: words.map(Self.quotedIfNeeded).joined(separator: " "), command: command))
            } catch {
                throw DemoScriptError(file: file, line: line, message: error.message)
            }
        }
        guard !steps.isEmpty else { throw DemoScriptError(file: file, line: 1, message: "the script has no commands") }
        self.steps = steps
    }

    /// Reads and checks the script at `url`.
    public init(contentsOf url: URL) throws {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw DemoScriptError(file: url.path, line: 0, message: "cannot read the script: \(error.localizedDescription)")
        }
        try self.init(parsing: text, file: url.lastPathComponent)
    }

    /// Splits a line into words; "double quotes" keep spaces, `#` outside quotes ends the line.
    static func words(of line: String) throws(DemoParseFailure) -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false
        var inWord = false
        for character in line {
            if quoted {
                if character == "\"" { quoted = false } else { current.append(character) }
            } else if character == "\"" {
                quoted = true
                inWord = true
            } else if character == "#" && !inWord {
                break
            } else if character.isWhitespace {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        if quoted { throw DemoParseFailure("a quote is not closed") }
        if inWord { words.append(current) }
        return words
    }

    private static func quotedIfNeeded(_ word: String) -> String {
        word.isEmpty || word.contains(where: { $0.isWhitespace || $0 == "#" }) ? "\"\(word)\"" : word
    }
}

/// One reason a line is wrong, before the file and line are attached.
struct DemoParseFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

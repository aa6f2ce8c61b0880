/// Turns one line's words into a `DemoCommand`, or says what is wrong with them. Knows the
/// grammar only; whether names exist is `DemoScriptChecker`'s business.
enum DemoCommandParser {
    /// Every command, as the help for an unknown one lists them.
    static let commands = [
        "say", "devices", "guests", "register", "contacts", "verify", "call", "answer", "join", "leave",
        "hangup", "mute", "unmute", "wait", "group", "meeting", "export", "expect"
    ]
    static let expectations = [
        "hears", "hears-not", "sees", "path", "sas", "ciphertext", "server-hears", "rekey", "in-call", "wiped", "recording"
    ]

    static func parse(_ words: [String]) throws(DemoParseFailure) -> DemoCommand {
        let verb = words[0], rest = Array(words.dropFirst())
        switch verb {
        case "say":
            guard !rest.isEmpty else { throw DemoParseFailure("say: give the text to show, e.g. say \"bob joins late\"") }
            return .say(rest.joined(separator: " "))
        case "devices": return .devices(try rest.nonEmpty("devices NAME[=NUMBER]…").map(device))
        case "guests": return .guests(try names(rest, usage: "guests NAME…"))
        case "register": return .register(try names(rest, usage: "register NAME…"))
        case "contacts":
            let devices = try names(rest, usage: "contacts NAME NAME…")
            guard devices.count >= 2 else { throw DemoParseFailure("contacts: name at least two devices; each adds the others") }
            return .contacts(devices)
        case "verify":
            let (a, b) = try pair(rest, usage: "verify NAME NAME")
            return .verify(a, b)
        case "call":
            guard rest.count == 2 || (rest.count == 3 && rest[2] == "relay") else {
                throw DemoParseFailure("call: write 'call CALLER CALLEE [relay]' or 'call CALLER GROUP'")
            }
            return .call(caller: try name(rest[0]), callee: try name(rest[1]), relay: rest.count == 3)
        case "answer": return .answer(try single(rest, usage: "answer NAME"))
        case "join": return .join(try single(rest, usage: "join NAME"))
        case "leave": return .leave(try single(rest, usage: "leave NAME"))
        case "hangup": return .hangUp(try single(rest, usage: "hangup NAME"))
        case "mute": return .mute(try single(rest, usage: "mute NAME"), true)
        case "unmute": return .mute(try single(rest, usage: "unmute NAME"), false)
        case "wait":
            guard rest.count == 1 else { throw DemoParseFailure("wait: write 'wait DURATION', e.g. wait 2s or wait 500ms") }
            return .wait(try duration(rest[0]))
        case "group": return try group(rest)
        case "meeting": return try meeting(rest)
        case "export":
            guard rest.isEmpty else { throw DemoParseFailure("export takes no arguments: it exports the meeting's recording") }
            return .export
        case "expect": return .expect(try expectation(rest))
        default:
            throw DemoParseFailure("unknown command '\(verb)'; the commands are \(commands.joined(separator: ", "))")
        }
    }

    private static func group(_ words: [String]) throws(DemoParseFailure) -> DemoCommand {
        switch words.first {
        case "create":
            guard words.count >= 4 else { throw DemoParseFailure("group create: write 'group create GROUP OWNER MEMBER…'") }
            return .groupCreate(group: try name(words[1]), owner: try name(words[2]), members: try words.dropFirst(3).map(name))
        case "add", "remove":
            guard words.count == 3 else { throw DemoParseFailure("group \(words[0]): write 'group \(words[0]) GROUP NAME'") }
            let group = try name(words[1]), member = try name(words[2])
            return words[0] == "add" ? .groupAdd(group: group, member: member) : .groupRemove(group: group, member: member)
        default:
            throw DemoParseFailure("group: write 'group create GROUP OWNER MEMBER…', 'group add GROUP NAME' or 'group remove GROUP NAME'")
        }
    }

    private static func meeting(_ words: [String]) throws(DemoParseFailure) -> DemoCommand {
        switch words.first {
        case "create":
            guard words.count >= 2 else { throw DemoParseFailure("meeting create: write 'meeting create HOST [open] [record]'") }
            let switches = words.dropFirst(2)
            for word in switches where word != "open" && word != "record" {
                throw DemoParseFailure("meeting create: '\(word)' is not a switch; the switches are open and record")
            }
            return .meetingCreate(host: try name(words[1]), open: switches.contains("open"), record: switches.contains("record"))
        case "join": return .meetingJoin(try single(Array(words.dropFirst()), usage: "meeting join NAME"))
        case "admit", "deny":
            let who = try single(Array(words.dropFirst()), usage: "meeting \(words[0]) NAME")
            return .meetingAdmit(who, admit: words[0] == "admit")
        case "record":
            guard words.count == 3, ["on", "off"].contains(words[2]) else {
                throw DemoParseFailure("meeting record: write 'meeting record NAME on' or 'meeting record NAME off'")
            }
            return .meetingRecord(try name(words[1]), on: words[2] == "on")
        default:
            throw DemoParseFailure("meeting: write 'meeting create|join|admit|deny|record …'")
        }
    }

    private static func expectation(_ words: [String]) throws(DemoParseFailure) -> DemoExpectation {
        guard let what = words.first else {
            throw DemoParseFailure("expect: say what, one of \(expectations.joined(separator: ", "))")
        }
        let rest = Array(words.dropFirst())
        switch what {
        case "hears", "hears-not":
            guard rest.count >= 2 else { throw DemoParseFailure("expect \(what): write 'expect \(what) LISTENER SPEAKER…'") }
            let listener = try name(rest[0]), speakers = try rest.dropFirst().map(name)
            return what == "hears" ? .hears(listener: listener, speakers: speakers) : .hearsNot(listener: listener, speakers: speakers)
        case "sees":
            let (viewer, shown) = try pair(rest, usage: "expect sees VIEWER SHOWN")
            return .sees(viewer: viewer, shown: shown)
        case "path":
            guard rest.count == 2, let path = DemoPath(rawValue: rest[1]) else {
                throw DemoParseFailure("expect path: write 'expect path NAME p2p' or 'expect path NAME relay'")
            }
            return .path(try name(rest[0]), path)
        case "sas":
            let (a, b) = try pair(rest, usage: "expect sas NAME NAME")
            return .sas(a, b)
        case "ciphertext":
            guard rest.count == 1, let site = DemoWireSite(rawValue: rest[0]) else {
                throw DemoParseFailure("expect ciphertext: write 'expect ciphertext relay' or 'expect ciphertext sfu'")
            }
            return .ciphertext(site)
        case "server-hears": return .serverHears(try names(rest, usage: "expect server-hears NAME…"))
        case "rekey": return .rekey(try names(rest, usage: "expect rekey NAME…"))
        case "in-call": return .inCall(try names(rest, usage: "expect in-call NAME…"))
        case "wiped": return .wiped(try names(rest, usage: "expect wiped NAME…"))
        case "recording": return .recording(try names(rest, usage: "expect recording NAME…"))
        default:
            throw DemoParseFailure("expect: unknown check '\(what)'; the checks are \(expectations.joined(separator: ", "))")
        }
    }

    // MARK: - Arguments

    /// A script name: a letter, then letters, digits, - or _.
    static func name(_ word: String) throws(DemoParseFailure) -> String {
        guard let first = word.unicodeScalars.first, first.properties.isAlphabetic,
            word.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" })
        else {
            throw DemoParseFailure("'\(word)' is not a name: start with a letter, then letters, digits, - or _")
        }
        return word
    }

    private static func names(_ words: [String], usage: String) throws(DemoParseFailure) -> [String] {
        try words.nonEmpty(usage).map(name)
    }

    private static func single(_ words: [String], usage: String) throws(DemoParseFailure) -> String {
        guard words.count == 1 else { throw DemoParseFailure("write '\(usage)'") }
        return try name(words[0])
    }

    private static func pair(_ words: [String], usage: String) throws(DemoParseFailure) -> (String, String) {
        guard words.count == 2 else { throw DemoParseFailure("write '\(usage)'") }
        let (a, b) = (try name(words[0]), try name(words[1]))
        guard a != b else { throw DemoParseFailure("'\(usage)' needs two different devices") }
        return (a, b)
    }

    /// `alice` or `alice=+15550101`.
    private static func device(_ word: String) throws(DemoParseFailure) -> DemoCommand.DeviceDeclaration {
        let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
        let name = try name(parts.first ?? "")
        guard parts.count == 2 else { return .init(name: name, number: nil) }
        let number = parts[1]
        guard number.first == "+", (2...16).contains(number.count), number.dropFirst().allSatisfy(\.isASCII),
            number.dropFirst().allSatisfy(\.isNumber)
        else {
            throw DemoParseFailure("'\(number)' is not a phone number: write + and 1–15 digits, e.g. \(name)=+15550101")
        }
        return .init(name: name, number: number)
    }

    /// `2s`, `1.5s`, `500ms`: at most ten minutes.
    static func duration(_ word: String) throws(DemoParseFailure) -> Duration {
        let (digits, scale): (Substring, Double) =
            word.hasSuffix("ms") ? (word.dropLast(2), 0.001) : word.hasSuffix("s") ? (word.dropLast(), 1) : ("", 0)
        guard let value = Double(digits), value.isFinite, value >= 0, value * scale <= 600 else {
            throw DemoParseFailure("'\(word)' is not a duration: write e.g. 2s, 1.5s or 500ms (at most 600s)")
        }
        return .milliseconds(Int((value * scale * 1000).rounded()))
    }
}

extension Array where Element == String {
    fileprivate func nonEmpty(_ usage: String) throws(DemoParseFailure) -> [String] {
        guard !isEmpty else { throw DemoParseFailure("write '\(usage)'") }
        return self
    }
}

import DuetClient

/// Someone rings: who, whether their key is the one verified, and the two answers.
enum IncomingCallOverlay {
    static func lines(_ call: IncomingCall, width: Int) -> [StyledText] {
        let caller = call.name.map { "\($0) (\(call.number))" } ?? call.number
        var lines: [StyledText] = [StyledText("Incoming call", .bold), ""]
        lines += StyledText(caller, .bold).wrapped(to: width)
        let trust: StyledText =
            switch call.trust {
            case .verified, .unverified: TextFormat.trust(call.trust)
            case .keyChanged: TextFormat.trust(call.trust) + StyledText(" — their key changed since you last saw it", .danger)
            }
        lines += trust.wrapped(to: width)
        lines += ["", StyledText("a", .bold) + " accept   " + StyledText("d", .bold) + " decline"]
        return lines
    }
}

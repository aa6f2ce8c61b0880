/// The top row: who this is, which server, and the device key, in reverse video so it reads
/// as a bar on a terminal without colours. While a meeting this device is in is recorded, the
/// row starts with REC (bold, out of the reverse video), whichever pane is shown.
enum StatusBar {
    static let recBadge = StyledText(" ● REC ", .danger)

    static func line(_ state: TUIState, width: Int) -> StyledText {
        guard let meeting = state.meeting, meeting.recording, meeting.phase.isActive, width > recBadge.count else {
            return bar(state, width: width)
        }
        return recBadge + bar(state, width: width - recBadge.count)
    }

    static func bar(_ state: TUIState, width: Int) -> StyledText {
        let number = state.ownNumber ?? "not registered"
        let server = "server \(state.server.address) \(word(state.server))" + (state.server.embedded ? " (embedded)" : "")
        let key = "key \(state.ownFingerprintShort)"
        let named = [state.ownName, number].compactMap { $0 }.joined(separator: " ")
        // Shorter forms, tried in turn, so the server's state is not the part that gets cut:
        // the key is on the keys screen, and "Duet" and the name are the least news.
        let forms = [
            ["Duet", state.profile, named, server, key],
            ["Duet", state.profile, named, server],
            [state.profile, named, server],
            [state.profile, number, server]
        ].map { " " + $0.joined(separator: " · ") }
        let text = forms.first { $0.count <= width } ?? forms[forms.count - 1]
        return StyledText(text, .reverse).padded(to: width, .reverse)
    }

    /// The connection state in one word; a failure is in capitals so it stands out without colour.
    static func word(_ server: ServerStatus) -> String {
        switch server.state {
        case .connecting: "connecting…"
        case .connected: "connected"
        case let .reconnecting(attempt): "reconnecting (attempt \(attempt))"
        case .failed: "FAILED"
        }
    }
}

/// The row above the key hints: the latest notice or error, in words that say what to do.
enum MessageLine {
    static func line(_ state: TUIState, width: Int) -> StyledText {
        let content: StyledText
        if let message = state.message {
            content = StyledText(message.text, TextFormat.style(message.severity))
        } else if case let .failed(reason) = state.server.state {
            // The status bar only says FAILED; the reason and what to do go here.
            content = StyledText("Server: \(reason)", .danger)
        } else {
            content = StyledText()
        }
        return (" " + content).padded(to: width)
    }
}

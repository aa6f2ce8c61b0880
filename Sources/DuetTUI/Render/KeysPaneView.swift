/// The right pane for this device's own keys: the fingerprint others may ask about, and the
/// prekeys that let people call while this device is offline.
enum KeysPaneView {
    static let labelWidth = 18
    /// Below this many one-time prekeys the count is shown as a warning.
    static let lowPrekeys = 20

    static func lines(_ state: TUIState, width: Int) -> [StyledText] {
        var lines: [StyledText] = [StyledText("Your keys", .bold), ""]
        guard let keys = state.keys else {
            return lines + StyledText("Your keys are not loaded yet.").wrapped(to: width)
        }
        let valueWidth = width - labelWidth
        for (index, part) in fingerprintLines(keys.fingerprint, width: valueWidth).enumerated() {
            let label = index == 0 ? StyledText("Fingerprint").padded(to: labelWidth) : .spaces(labelWidth)
            lines.append(label + StyledText(part, .bold))
        }
        lines += TextFormat.labelled(
            "Number", StyledText(state.ownNumber ?? "not registered"),
            labelWidth: labelWidth, width: width)
        let prekeys =
            keys.oneTimePrekeys < lowPrekeys
            ? StyledText("\(keys.oneTimePrekeys) left — low", .warning)
            : StyledText("\(keys.oneTimePrekeys) left")
        lines += TextFormat.labelled("One-time prekeys", prekeys, labelWidth: labelWidth, width: width)
        lines += TextFormat.labelled(
            "Signed prekey", StyledText("#\(keys.signedPrekeyID), \(keys.signedPrekeyAge) old"),
            labelWidth: labelWidth, width: width)
        lines.append("")
        lines += StyledText(
            "Others verify you with the safety number: they select you, press s and read the 60 "
                + "digits with you, in person or on a call."
        ).wrapped(to: width)
        return lines
    }

    /// The fingerprint on one line if it fits, else four groups a line so the halves line up.
    static func fingerprintLines(_ fingerprint: String, width: Int) -> [String] {
        guard fingerprint.count > width else { return [fingerprint] }
        let groups = fingerprint.split(separator: " ").map(String.init)
        return stride(from: 0, to: groups.count, by: 4).map {
            groups[$0..<min($0 + 4, groups.count)].joined(separator: " ")
        }
    }
}

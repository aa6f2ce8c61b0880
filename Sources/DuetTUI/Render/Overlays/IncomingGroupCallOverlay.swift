/// A group call rings: which group, who is in the room already, that voices stay end-to-end
/// encrypted through the server's router, and the two answers.
enum IncomingGroupCallOverlay {
    static func lines(_ call: IncomingGroupCall, width: Int) -> [StyledText] {
        var lines: [StyledText] = [StyledText("Incoming group call", .bold), ""]
        lines += StyledText("# " + call.groupName, .bold).wrapped(to: width)
        let inRoom = call.participants.isEmpty ? "nobody yet" : call.participants.joined(separator: ", ")
        lines += StyledText("In the call: \(inRoom)").wrapped(to: width)
        lines += StyledText("\(call.memberCount) members · through the server's SFU, SFrame end-to-end encrypted", .dim)
            .wrapped(to: width)
        lines += ["", StyledText("a", .bold) + " join   " + StyledText("d", .bold) + " decline"]
        return lines
    }
}

/// Lets one task at a time through, in the order they came: SQLite has one writer, and a
/// directory transaction spans several awaits on it, so the next may begin only once the
/// last has committed or rolled back.
actor WriterGate {
    private var held = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        guard held else {
            held = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty { held = false } else { waiting.removeFirst().resume() }
    }

}

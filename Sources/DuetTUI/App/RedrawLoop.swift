/// The one redraw path (toxic's dirty flag and single UI thread, as an async stream): any
/// change — a key, an engine event, a task finishing, the tick — only marks the screen dirty,
/// and one task draws. Marks that come while a draw runs fold into one more draw, which reads
/// the state as it is then, so draws happen one at a time, each of a state at least as new
/// as the one before, and the last draw shows the newest state. Separate redraw tasks, one
/// per change, could finish out of order and paint an older screen over a newer one.
public final class RedrawLoop: Sendable {
    private let marks: AsyncStream<Void>
    private let sink: AsyncStream<Void>.Continuation

    public init() {
        (marks, sink) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Something changed: draw again soon (at most one draw is ever pending).
    public func markDirty() { sink.yield() }

    /// Draws once per pending mark, one draw at a time, until `finish()`.
    public func run(_ draw: @Sendable () async -> Void) async {
        for await _ in marks { await draw() }
    }

    /// Ends `run` once the pending draw, if any, is done.
    public func finish() { sink.finish() }
}

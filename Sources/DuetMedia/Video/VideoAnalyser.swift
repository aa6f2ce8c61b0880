/// What a receiver saw, read from the pictures themselves as `VoiceAnalyser` reads the voice:
/// who is shown (the `VideoTag`'s person code among the call's people), how many distinct
/// frames a second, freezes (no new frame for more than `freezeGap`), the picture's size and,
/// when sender and receiver share a clock (one machine), capture-to-display delay.
public struct VideoAnalyser: Sendable {
    /// A gap longer than this between new frames is a freeze.
    public static let freezeGap = 0.2
    /// The frame rate counts new frames in the last second (a hair less, so a frame exactly a
    /// second old is not counted with the one that replaces it).
    static let rateWindow = 0.999

    public struct Report: Sendable, Equatable {
        /// The person last seen, nil before a readable frame (or for an unknown code).
        public var person: String?
        /// New frames in the last second.
        public var framesPerSecond: Int
        public var freezes: Int
        public var longestGapMilliseconds: Int
        public var width: Int
        public var height: Int
        /// The last frame's delay from capture to here, if the clocks are one.
        public var delayMilliseconds: Int?
        public var framesSeen: Int
        /// Pictures whose tag did not read (damaged, or not a synthetic camera's).
        public var unreadable: Int
    }

    private let names: [UInt16: String]
    private var recent: [Double] = []
    private var lastFrame: UInt16?
    private var lastNew: Double?
    private var report = Report(
        person: nil, framesPerSecond: 0, freezes: 0, longestGapMilliseconds: 0, width: 0, height: 0, delayMilliseconds: nil, framesSeen: 0,
        unreadable: 0)

    /// `people`: the names a picture may show (a code matching none shows as unknown).
    public init(people: [String]) {
        var names: [UInt16: String] = [:]
        for person in people { names[VideoTag.code(for: person)] = person }
        self.names = names
    }

    /// One picture shown at `time` (seconds, any steady clock); `clockMilliseconds` is the
    /// sender's capture clock read now, when it is this machine's.
    public mutating func observe(_ frame: VideoFrame, at time: Double, clockMilliseconds: Int? = nil) {
        report.width = frame.width
        report.height = frame.height
        guard let tag = VideoTag.read(from: frame) else {
            report.unreadable += 1
            return
        }
        report.person = names[tag.person]
        guard tag.frame != lastFrame else { return }
        lastFrame = tag.frame
        report.framesSeen += 1
        if let lastNew {
            let gap = time - lastNew
            report.longestGapMilliseconds = max(report.longestGapMilliseconds, Int(gap * 1000))
            if gap > Self.freezeGap { report.freezes += 1 }
        }
        lastNew = time
        recent.append(time)
        recent.removeAll { $0 <= time - Self.rateWindow }
        report.framesPerSecond = recent.count
        if let clockMilliseconds { report.delayMilliseconds = (clockMilliseconds - Int(tag.stamp)) & 0x0FFF }
    }

    /// The sender stopped on purpose (its camera went off): the wait until its next picture
    /// is not a freeze.
    public mutating func pause() { lastNew = nil }

    /// What has been seen so far; `now` ages the frame rate (no frames lately: it falls).
    public func summary(at now: Double) -> Report {
        var report = report
        report.framesPerSecond = recent.filter { $0 > now - Self.rateWindow }.count
        return report
    }
}

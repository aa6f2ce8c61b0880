import DuetMedia

/// One picture of a call, for a screen to draw: its size and its pixels as RGB. Holds the
/// decoded I420 frame (shared, not copied) and converts only when asked, on the drawing side.
public struct VideoPicture: Sendable, Equatable {
    let frame: VideoFrame

    init(_ frame: VideoFrame) { self.frame = frame }

    /// Picture `index` of `person`'s synthetic camera: what a call would show of them (the
    /// TUI's tests and benchmark draw it without a call).
    public init(cameraOf person: String, index: Int, width: Int = 160, height: Int = 120) {
        frame = SyntheticCamera(person: person, width: width, height: height).frame(index)
    }

    public var width: Int { frame.width }
    public var height: Int { frame.height }

    /// The pixels as packed 8-bit RGB, row by row.
    public func rgb() -> [UInt8] { frame.rgb() }
}

/// The pictures a group call shows: each member's last one (by number; none before their
/// first), the members whose camera is off, and this device's camera's.
public struct GroupPictures: Sendable, Equatable, CustomStringConvertible {
    public var members: [String: VideoPicture]
    public var camerasOff: Set<String>
    public var own: VideoPicture?

    public init(members: [String: VideoPicture], camerasOff: Set<String> = [], own: VideoPicture? = nil) {
        self.members = members
        self.camerasOff = camerasOff
        self.own = own
    }

    public var description: String { "\(members.count) members, \(camerasOff.count) cameras off, own \(own == nil ? "none" : "shown")" }
}

/// The pictures a 1:1 call shows: the peer's last one (nil before the first, or while its
/// camera is off) and this device's camera's (nil when it is off or absent).
public struct CallPictures: Sendable, Equatable, CustomStringConvertible {
    public var peer: VideoPicture?
    public var own: VideoPicture?

    public init(peer: VideoPicture?, own: VideoPicture?) {
        self.peer = peer
        self.own = own
    }

    public var description: String {
        func size(_ picture: VideoPicture?) -> String { picture.map { "\($0.width)x\($0.height)" } ?? "none" }
        return "peer \(size(peer)) own \(size(own))"
    }
}

import DuetMedia

/// This device's camera for a call (`--video`, `--video-size`, `--fps`): the synthetic scene's
/// size and frame rate. Checked on the way in, so a call never starts with one libvpx refuses.
public struct VideoSettings: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var framesPerSecond: Int

    public static let framesPerSecondRange = 1...30
    public static let largest = (width: 640, height: 480)

    /// Why a setting cannot be used.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case size(String)
        case framesPerSecond(Int)

        public var description: String {
            switch self {
            case let .size(text):
                "video size '\(text)' must be WIDTHxHEIGHT, even numbers from \(SyntheticCamera.minimumWidth)x\(SyntheticCamera.minimumHeight) to \(VideoSettings.largest.width)x\(VideoSettings.largest.height), e.g. 160x120"
            case let .framesPerSecond(value):
                "--fps \(value) is outside \(VideoSettings.framesPerSecondRange.lowerBound)–\(VideoSettings.framesPerSecondRange.upperBound)"
            }
        }
    }

    public init(
        width: Int = SyntheticCamera.defaultWidth, height: Int = SyntheticCamera.defaultHeight,
        framesPerSecond: Int = SyntheticCamera.defaultFramesPerSecond
    ) throws(Problem) {
        guard (SyntheticCamera.minimumWidth...Self.largest.width).contains(width),
            (SyntheticCamera.minimumHeight...Self.largest.height).contains(height),
            width % 2 == 0, height % 2 == 0
        else { throw .size("\(width)x\(height)") }
        guard Self.framesPerSecondRange.contains(framesPerSecond) else { throw .framesPerSecond(framesPerSecond) }
        self.width = width
        self.height = height
        self.framesPerSecond = framesPerSecond
    }

    /// From "WIDTHxHEIGHT" (`--video-size`).
    public init(size text: String, framesPerSecond: Int = SyntheticCamera.defaultFramesPerSecond) throws(Problem) {
        let parts = text.lowercased().split(separator: "x")
        guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]) else { throw .size(text) }
        try self.init(width: width, height: height, framesPerSecond: framesPerSecond)
    }
}

import ArgumentParser
import DuetClient
import Foundation

/// `--video`, `--video-size` and `--fps`: the camera, wherever there is one (docs/video.md).
struct CameraOptions: ParsableArguments {
    @Flag(help: "Turn your camera on: a synthetic moving scene with your initials and a frame counter.") var video = false
    @Option(help: ArgumentHelp("The camera's picture size (with --video).", valueName: "WIDTHxHEIGHT")) var videoSize = "160x120"
    @Option(help: "The camera's frames per second (with --video).") var fps = 15

    func validate() throws {
        do { _ = try settings() } catch { throw ValidationError(error.description) }
    }

    /// The camera's settings, or nil with the camera off.
    func settings() throws(VideoSettings.Problem) -> VideoSettings? {
        let settings = try VideoSettings(size: videoSize, framesPerSecond: fps)
        return video ? settings : nil
    }
}

/// The camera and `--save-video` of `duet call` and `duet answer`.
struct VideoOptions: ParsableArguments {
    @OptionGroup var camera: CameraOptions
    @Option(
        help: ArgumentHelp("Save the other side's video, as shown, to an IVF file that ffmpeg plays.", valueName: "FILE.ivf"))
    var saveVideo: String?

    /// The camera's settings, or nil with the camera off.
    func settings() throws(VideoSettings.Problem) -> VideoSettings? { try camera.settings() }

    /// Sets `options.video` and `saveVideo` from the flags (checked in `validate`).
    func apply(to options: inout CallOptions) {
        options.video = try? settings()
        options.saveVideo = saveVideo.map { URL(fileURLWithPath: $0) }
    }
}

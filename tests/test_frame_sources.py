"""Frame sources: folders, video files, stream specs and their output names."""
import os

import cv2
import numpy as np
import pytest
from test_apis import FRAME_H, FRAME_W, write_video
from test_streaming import FakeCapture, fake_source


def test_stream_specs_and_names():
    from mgpose_mm.apis import CaptureFrames
    from mgpose_mm.apis.frame_sources import output_stem, stream_target
    assert [stream_target(s)
            for s in ('webcam', 'WEBCAM:2', '3', 1)] == [0, 2, 3, 1]
    url = 'rtsp://user:secret@cam.local:554/live/1'
    assert stream_target(url) == url
    assert output_stem(url) == 'cam_local_554_live_1'  # no credentials
    assert output_stem('webcam') == 'webcam0'
    assert stream_target('video.mp4') is None and stream_target(True) is None
    assert output_stem('dir/video.mp4') == 'video'
    assert output_stem([np.zeros((4, 4, 3))]) == 'frames'
    with pytest.raises(ValueError, match='>= 0'):
        stream_target(-1)
    with pytest.raises(FileNotFoundError, match='absent.mp4'):
        CaptureFrames('absent.mp4')
    with pytest.raises(IOError, match='cannot open camera 0'):
        fake_source(FakeCapture([], opened=False))
    with pytest.raises(
            IOError,
            match=r'cannot open rtsp://127\.0\.0\.1:1/none \(unreachable'):
        CaptureFrames(
            'rtsp://127.0.0.1:1/none')  # real OpenCV capture, closed port


def test_folder_frames_are_image_files_in_natural_order(tmp_path):
    from mgpose_mm.apis.frame_sources import open_input
    for name in ('frame_10.jpg', 'frame_2.JPG', 'frame_1.png', '.frame_0.jpg'):
        cv2.imwrite(
            str(tmp_path / name.lower()), np.zeros((8, 8, 3), np.uint8))
        os.rename(tmp_path / name.lower(), tmp_path / name)
    (tmp_path / 'notes.txt').write_text('not a frame')
    (tmp_path / 'sub.jpg').mkdir()  # a folder, not an image
    frames = open_input(str(tmp_path))
    # hidden files (e.g. macOS ._* files, partial outputs) are skipped
    assert frames.paths == [
        str(tmp_path / n)
        for n in ('frame_1.png', 'frame_2.JPG', 'frame_10.jpg')
    ]
    assert frames.frame_numbers() == [1, 2, 10]


def test_video_file_frames_decode_every_frame_in_order(tmp_path):
    from mgpose_mm.apis.frame_sources import open_input
    video = str(tmp_path / 'gray.mp4')
    write_video(
        video, [
            np.full((FRAME_H, FRAME_W, 3), 30 * i + 10, np.uint8)
            for i in range(7)
        ],
        fps=8.0)
    frames = open_input(video)
    assert frames.fps == pytest.approx(8.0) and frames.num_frames == 7
    for _ in range(2):  # a source can be read again
        decoded = list(frames)
        assert [f.shape for f in decoded] == [(FRAME_H, FRAME_W, 3)] * 7
        np.testing.assert_allclose(
            [f.mean() for f in decoded], [30 * i + 10 for i in range(7)],
            atol=8)  # mp4v is lossy; frames differ by 30

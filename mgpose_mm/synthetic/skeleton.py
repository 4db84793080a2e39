"""Articulated human figure for the synthetic videos: body shape, motion and
PoseTrack keypoints.

The figure is a small 3D skeleton (body frame: left, up, forward; unit =
standing height) that is turned by a yaw angle and projected orthographically
into the image. Joint angles follow smooth periodic motions (walking gait, arm
swings, turning on the spot); the whole figure moves with a smooth ground-point
trajectory and a smooth scale change (approaching/receding).
"""
from dataclasses import dataclass, replace

import cv2
import numpy as np

from mgpose_mm.datasets.posetrack_json import \
    POSETRACK_KEYPOINT_NAMES as KEYPOINT_NAMES

# PoseTrack never annotates the ears: they stay [0, 0, 0].
UNANNOTATED_KEYPOINTS = ('left_ear', 'right_ear')

JOINT_NAMES = ('pelvis', 'neck', 'head_center', 'head_top', 'head_bottom',
               'nose', 'left_eye', 'right_eye', 'left_shoulder',
               'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist',
               'right_wrist', 'left_hand', 'right_hand', 'left_hip',
               'right_hip', 'left_knee', 'right_knee', 'left_ankle',
               'right_ankle', 'left_toe', 'right_toe')
JOINT_INDEX = {name: i for i, name in enumerate(JOINT_NAMES)}
KEYPOINT_JOINTS = tuple(
    None if name in UNANNOTATED_KEYPOINTS else JOINT_INDEX[name]
    for name in KEYPOINT_NAMES)

MOTION_KINDS = ('walk', 'arm_swing', 'turn')
TORSO_LENGTH = 0.29  # pelvis to shoulder line
THIGH, SHANK, UPPER_ARM, FOREARM = 0.245, 0.245, 0.165, 0.15
ANKLE_HEIGHT = 0.04
HEAD_RADIUS = 0.062


@dataclass
class PersonStyle:
    """Appearance of one person.

    Colours are BGR floats in [0, 255].
    """
    skin: np.ndarray
    hair: np.ndarray
    shirt: np.ndarray
    pants: np.ndarray
    shoes: np.ndarray
    long_sleeves: bool
    shorts: bool
    stripes: float  # stripe period in body units, 0 = plain shirt
    shoulder_half: float  # half shoulder width, body units
    hip_half: float
    girth: float  # limb thickness multiplier


@dataclass
class Motion:
    """Parameters of the smooth motion of one person over a video (t in
    frames)."""
    kind: str
    sub_kind: str
    phase0: float
    freq: float  # cycles per frame
    leg_amp: float  # radians
    knee_amp: float
    arm_amp: float
    elbow_amp: float
    yaw0: float
    yaw_rate: float  # radians per frame
    # (x, y) image position of the ground point under the pelvis at t=0
    ground0: tuple
    velocity: tuple  # (vx, vy) pixels per frame
    height0: float  # standing height in pixels at t=0
    scale_rate: float  # log-scale change per frame
    wave_side: float = 1.0


@dataclass
class PersonTrack:
    """A simulated person over T frames.

    points: (T, J, 2) image coordinates of JOINT_NAMES; depth: (T, J) camera
    depth in pixels (larger = farther); height: (T,) standing height in pixels;
    yaw: (T,) radians; hair_dirs: (T, 3) unit image-frame direction (x right, y
    down, z towards the camera) towards the hair-covered back and top of the
    head.
    """
    track_id: int
    style: PersonStyle
    motion: Motion
    points: np.ndarray
    depth: np.ndarray
    height: np.ndarray
    yaw: np.ndarray
    hair_dirs: np.ndarray
    # placed across the image border on purpose
    truncated_by_design: bool = False

    def keypoints(self, t):
        """(17, 2) PoseTrack keypoint coordinates at frame t (ears are NaN:

        never annotated).
        """
        kpts = np.full((len(KEYPOINT_NAMES), 2), np.nan)
        for k, j in enumerate(KEYPOINT_JOINTS):
            if j is not None:
                kpts[k] = self.points[t, j]
        return kpts

    def shifted(self, dx, dy):
        """Copy of the track translated by (dx, dy) pixels in every frame."""
        motion = replace(
            self.motion,
            ground0=(self.motion.ground0[0] + dx, self.motion.ground0[1] + dy))
        return replace(
            self, motion=motion, points=self.points + np.array([dx, dy]))


def _limb_dir(flex, abd, side):
    """Unit limb direction in the body frame (left, up, forward); shapes (T,)

    -> (T, 3).

    flex rotates the limb forward from hanging straight down, abd lifts it
    sideways.
    """
    return np.stack([
        side * np.sin(abd), -np.cos(abd) * np.cos(flex),
        np.cos(abd) * np.sin(flex)
    ],
                    axis=-1)


def joint_angles(motion, t):
    """Joint angles (radians), each an array shaped like t, for the motion
    kind."""
    t = np.asarray(t, dtype=np.float64)
    phi = motion.phase0 + 2 * np.pi * motion.freq * t
    zero = np.zeros_like(t)
    deg = np.deg2rad
    ang = dict(
        hip_abd_l=zero + deg(2),
        hip_abd_r=zero + deg(2),
        sh_abd_l=zero + deg(7),
        sh_abd_r=zero + deg(7),
        el_abd_l=zero,
        el_abd_r=zero,
        twist=zero,
        lean=zero + deg(3),
        head_tilt=deg(4) * np.sin(0.5 * phi + 1.0))
    if motion.kind in ('walk', 'turn'):
        for side, ph in (('l', phi), ('r', phi + np.pi)):
            ang[f'hip_{side}'] = motion.leg_amp * np.sin(ph)
            ang[f'knee_{side}'] = deg(
                5) + motion.knee_amp * (0.5 + 0.5 * np.cos(ph + 0.3))**2
            # each arm swings against the leg of its own side
            ang[f'sh_{side}'] = -motion.arm_amp * np.sin(ph)
            ang[f'el_{side}'] = deg(12) + motion.elbow_amp * (0.5 -
                                                              0.5 * np.sin(ph))
        ang['twist'] = -0.4 * motion.leg_amp * np.sin(phi)
        ang['lean'] = zero + (deg(5) if motion.kind == 'walk' else deg(2))
    elif motion.sub_kind == 'jack':
        c = 0.5 - 0.5 * np.cos(phi)
        for side in 'lr':
            ang[f'hip_{side}'] = zero
            ang[f'hip_abd_{side}'] = deg(2) + deg(13) * c
            ang[f'knee_{side}'] = deg(4) + deg(14) * c
            ang[f'sh_{side}'] = zero + deg(5)
            ang[f'sh_abd_{side}'] = deg(12) + motion.arm_amp * c
            ang[f'el_{side}'] = deg(10) + deg(15) * c
    elif motion.sub_kind == 'wave':
        waving = 'l' if motion.wave_side > 0 else 'r'
        for side in 'lr':
            ang[f'hip_{side}'] = deg(3) * np.sin(0.5 * phi)
            ang[f'knee_{side}'] = zero + deg(6)
            if side == waving:
                ang[f'sh_{side}'] = zero + deg(15)
                ang[f'sh_abd_{side}'] = deg(125) + deg(10) * np.sin(0.5 * phi)
                ang[f'el_{side}'] = zero + deg(10)
                ang[f'el_abd_{side}'] = motion.elbow_amp * np.sin(phi)
            else:
                ang[f'sh_{side}'] = deg(8) * np.sin(0.5 * phi)
                ang[f'el_{side}'] = zero + deg(15)
    else:  # 'swing': both arms swing forward and back together, knees bounce
        bounce = 0.5 - 0.5 * np.cos(2 * phi)
        for side in 'lr':
            ang[f'hip_{side}'] = deg(8) * bounce
            ang[f'knee_{side}'] = deg(6) + motion.knee_amp * bounce
            ang[f'sh_{side}'] = motion.arm_amp * np.sin(phi)
            ang[f'el_{side}'] = deg(
                15) + motion.elbow_amp * (0.5 + 0.5 * np.sin(phi))
        ang['lean'] = deg(4) * bounce
    return ang


def _body_joints(motion, style, t):
    """Joint positions in the body frame, pelvis at the origin: (T, J, 3) and
    hair dirs (T, 3)."""
    a = joint_angles(motion, t)
    n = len(np.atleast_1d(t))
    joints = np.zeros((n, len(JOINT_NAMES), 3))
    J = JOINT_INDEX

    def put(name, value):
        joints[:, J[name]] = value

    lean, twist = a['lean'], a['twist']
    neck = np.stack(
        [0 * lean, TORSO_LENGTH * np.cos(lean), TORSO_LENGTH * np.sin(lean)],
        -1)
    put('neck', neck)
    for side, sgn in (('left', 1.0), ('right', -1.0)):
        s = side[0]
        shoulder = neck + np.stack([
            sgn * style.shoulder_half * np.cos(twist),
            np.full(n, -0.015), sgn * style.shoulder_half * np.sin(twist)
        ], -1)
        elbow = shoulder + UPPER_ARM * _limb_dir(a[f'sh_{s}'],
                                                 a[f'sh_abd_{s}'], sgn)
        fore = _limb_dir(a[f'sh_{s}'] + a[f'el_{s}'],
                         a[f'sh_abd_{s}'] + a[f'el_abd_{s}'], sgn)
        wrist = elbow + FOREARM * fore
        hip = np.tile([sgn * style.hip_half, 0.0, 0.0], (n, 1))
        knee = hip + THIGH * _limb_dir(a[f'hip_{s}'], a[f'hip_abd_{s}'], sgn)
        ankle = knee + SHANK * _limb_dir(a[f'hip_{s}'] - a[f'knee_{s}'],
                                         a[f'hip_abd_{s}'], sgn)
        put(f'{side}_shoulder', shoulder)
        put(f'{side}_elbow', elbow)
        put(f'{side}_wrist', wrist)
        put(f'{side}_hand', wrist + 0.035 * fore)
        put(f'{side}_hip', hip)
        put(f'{side}_knee', knee)
        put(f'{side}_ankle', ankle)
        put(f'{side}_toe', ankle + np.array([0.0, -0.025, 0.07]))
    tilt = a['head_tilt']
    head_up = np.stack([np.sin(tilt), np.cos(tilt), 0 * tilt], -1)
    head_center = neck + np.array([0.0, 0.115, 0.012])
    put('head_bottom', neck + np.array([0.0, 0.05, 0.01]))
    put('head_center', head_center)
    put('head_top', head_center + 1.1 * HEAD_RADIUS * head_up)
    put('nose', head_center + np.array([0.0, -0.012, 0.95 * HEAD_RADIUS]))
    put('left_eye', head_center + np.array([0.024, 0.012, 0.85 * HEAD_RADIUS]))
    put('right_eye',
        head_center + np.array([-0.024, 0.012, 0.85 * HEAD_RADIUS]))
    hair_dir = 0.75 * head_up + np.array([0.0, 0.0, -0.66
                                          ])  # up and to the back of the head
    return joints, hair_dir


def _yaw_basis(yaw):
    """World vectors of the body axes for yaw angles (T,): left, up, forward,
    each (T, 3).

    World: x = image right, y = up, z = away from the camera. yaw 0 faces the
    camera.
    """
    c, s = np.cos(yaw), np.sin(yaw)
    zero = np.zeros_like(yaw)
    left = np.stack([c, zero, s], -1)
    up = np.stack([zero, zero + 1, zero], -1)
    forward = np.stack([s, zero, -c], -1)
    return left, up, forward


def simulate(motion, style, nframes, track_id=0):
    """Simulate a person over `nframes` frames and project to the image ->
    PersonTrack."""
    t = np.arange(nframes, dtype=np.float64)
    joints, hair_dir = _body_joints(motion, style, t)
    yaw = motion.yaw0 + motion.yaw_rate * t
    left, up, forward = _yaw_basis(yaw)
    world = (joints[..., 0:1] * left[:, None] +
             joints[..., 1:2] * up[:, None] +
             joints[..., 2:3] * forward[:, None])  # (T, J, 3)
    hair_world = (
        hair_dir[:, 0:1] * left + hair_dir[:, 1:2] * up +
        hair_dir[:, 2:3] * forward)
    height = motion.height0 * np.exp(motion.scale_rate * t)
    ground_x = motion.ground0[0] + motion.velocity[0] * t
    ground_y = (motion.ground0[1] + motion.velocity[1] * t + 0.6 *
                (height - motion.height0)
                )  # nearer people stand lower in the image
    # the lower ankle touches the ground: this gives the vertical bob of
    # walking and squatting
    ankles = joints[:, [JOINT_INDEX['left_ankle'], JOINT_INDEX['right_ankle']],
                    1]
    pelvis_y = ground_y - height * (ANKLE_HEIGHT - ankles.min(axis=1))
    points = np.stack([
        ground_x[:, None] + height[:, None] * world[..., 0],
        pelvis_y[:, None] - height[:, None] * world[..., 1]
    ], -1)
    depth = height[:, None] * world[..., 2]
    hair_img = np.stack(
        [hair_world[:, 0], -hair_world[:, 1], -hair_world[:, 2]], -1)
    hair_img /= np.linalg.norm(hair_img, axis=-1, keepdims=True)
    return PersonTrack(
        track_id=track_id,
        style=style,
        motion=motion,
        points=points,
        depth=depth,
        height=height,
        yaw=yaw,
        hair_dirs=hair_img)


def extent(track, t=None):
    """Drawn extent (x0, y0, x1, y1) of the figure over frames t (all frames if
    None)."""
    sel = slice(None) if t is None else t
    pts = track.points[sel].reshape(-1, 2)
    pad = 0.085 * float(np.max(
        track.height[sel]))  # head radius / limb thickness
    return (pts[:, 0].min() - pad, pts[:, 1].min() - pad,
            pts[:, 0].max() + pad, pts[:, 1].max() + pad)


def random_style(rng):
    """Random clothing colours, skin tone and body build."""
    skin_tones = np.array([[190, 215, 245], [150, 185, 225], [110, 150, 200],
                           [70, 105, 150], [45, 70, 110]],
                          dtype=np.float64)
    skin = skin_tones[rng.integers(len(skin_tones))] * rng.uniform(0.9, 1.05)
    hair = np.array([20, 25, 35
                     ]) + rng.uniform(0, 1)**2 * np.array([60, 110, 150])
    hsv = np.uint8(
        [[[rng.integers(0, 180),
           rng.integers(60, 230),
           rng.integers(70, 235)],
          [rng.integers(0, 180),
           rng.integers(20, 160),
           rng.integers(40, 170)]]])
    shirt, pants = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR).astype(np.float64)[0]
    shoes = np.array([30, 30, 35]) + rng.uniform(0, 90)
    return PersonStyle(
        skin=np.clip(skin, 0, 255),
        hair=np.clip(hair, 0, 255),
        shirt=shirt,
        pants=pants,
        shoes=shoes,
        long_sleeves=bool(rng.random() < 0.5),
        shorts=bool(rng.random() < 0.2),
        stripes=float(rng.uniform(0.035, 0.06)) if rng.random() < 0.3 else 0.0,
        shoulder_half=float(rng.uniform(0.1, 0.125)),
        hip_half=float(rng.uniform(0.055, 0.07)),
        girth=float(rng.uniform(0.9, 1.25)))


def _angles(rng, kind, sub_kind, yaw_rate):
    """``(yaw0, yaw_rate, freq, leg_amp, knee_amp, arm_amp, elbow_amp)`` drawn
    for a motion kind (radians, cycles per frame)."""
    deg, u = np.deg2rad, rng.uniform
    if kind == 'walk':
        yaw0 = rng.choice([deg(90), deg(-90), 0.0,
                           deg(180)],
                          p=[0.35, 0.35, 0.15, 0.15])
        yaw0 += rng.normal(0, deg(20))
        return (yaw0, yaw_rate, u(1 / 20, 1 / 12), u(deg(18), deg(32)),
                u(deg(35), deg(55)), u(deg(15), deg(35)), u(deg(5), deg(25)))
    if kind == 'turn':
        yaw0 = u(-np.pi, np.pi)
        yaw_rate = float(rng.choice([-1, 1]) * u(deg(5), deg(11)))
        return (yaw0, yaw_rate, u(1 / 16, 1 / 11), u(deg(8), deg(15)),
                u(deg(15), deg(30)), u(deg(8), deg(18)), u(deg(5), deg(15)))
    yaw0 = rng.normal(0, deg(35)) if rng.random() < 0.7 else u(-np.pi, np.pi)
    freq, leg_amp, knee_amp = u(1 / 20, 1 / 13), 0.0, u(deg(10), deg(25))
    arm_amp = u(deg(90), deg(115)) if sub_kind == 'jack' else u(
        deg(35), deg(60))
    return (yaw0, yaw_rate, freq, leg_amp, knee_amp, arm_amp,
            u(deg(25), deg(40)))


def random_motion(rng, height, ground):
    """Random smooth motion for a person of `height` px standing at image point
    `ground`."""
    kind = MOTION_KINDS[rng.choice(3, p=[0.55, 0.25, 0.2])]
    sub_kind = str(rng.choice(['jack', 'wave', 'swing'
                               ])) if kind == 'arm_swing' else kind
    (yaw0, yaw_rate, freq, leg_amp, knee_amp, arm_amp,
     elbow_amp) = _angles(rng, kind, sub_kind,
                          float(rng.normal(0, np.deg2rad(0.6))))
    # ground speed that roughly matches the stride; partly slower (people
    # stroll)
    speed = 0.0
    if kind == 'walk':
        speed = height * 2 * THIGH * 2 * np.sin(leg_amp) * freq * rng.uniform(
            0.45, 0.85)
    velocity = (float(speed * np.sin(yaw0)) + float(rng.normal(0, 0.1)), 0.0)
    scale_rate = float(rng.normal(0, 0.003))
    if kind == 'walk':
        scale_rate += float(np.cos(yaw0) * speed / height * 0.5)
    return Motion(
        kind=kind,
        sub_kind=sub_kind,
        phase0=float(rng.uniform(0, 2 * np.pi)),
        freq=float(freq),
        leg_amp=float(leg_amp),
        knee_amp=float(knee_amp),
        arm_amp=float(arm_amp),
        elbow_amp=float(elbow_amp),
        yaw0=float(yaw0),
        yaw_rate=yaw_rate,
        ground0=(float(ground[0]), float(ground[1])),
        velocity=velocity,
        height0=float(height),
        scale_rate=scale_rate,
        wave_side=float(rng.choice([-1.0, 1.0])))

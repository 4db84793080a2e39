"""Drawing for the synthetic videos: textured backgrounds, shaded figures,
occluders, blur.

Images are float32 BGR arrays (H, W, 3) in [0, 255] while drawing. Figures are
drawn from shaded primitives (tapered capsules and a torso polygon) lit by one
directional light, with anti-aliased edges, so they look like clothed people
rather than stick figures.
"""
from functools import partial

import cv2
import numpy as np

from .skeleton import JOINT_INDEX, PersonTrack

AMBIENT, DIFFUSE = 0.45, 0.65


def _smooth_noise(rng, height, width, cell):
    """Value noise in [0, 1], (height, width): random grid of `cell` px
    upsampled cubically."""
    shape = (max(2, height // cell + 2), max(2, width // cell + 2))
    grid = rng.random(shape).astype(np.float32)
    return np.clip(
        cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC), 0, 1)


def _fractal_noise(rng,
                   height,
                   width,
                   cells=(48, 16, 5),
                   weights=(0.5, 0.3, 0.2)):
    return sum(w * _smooth_noise(rng, height, width, c)
               for c, w in zip(cells, weights))


def _random_colour(rng, sat=(20, 160), val=(60, 220)):
    hsv = np.uint8(
        [[[rng.integers(0, 180),
           rng.integers(*sat),
           rng.integers(*val)]]])
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].astype(np.float32)


def make_background(rng, width, height):
    """Textured scene (height, width, 3) float32: wall/sky gradient, floor,
    shapes, noise."""
    ys = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    top, bottom = _random_colour(rng), _random_colour(rng)
    img = np.broadcast_to(top * (1 - ys) + bottom * ys,
                          (height, width, 3)).copy()
    horizon = int(height * rng.uniform(0.35, 0.7))
    for _ in range(rng.integers(3, 9)):  # buildings, windows, furniture, signs
        colour = _random_colour(rng)
        x0, y0 = rng.integers(0, width), rng.integers(-height // 4, horizon)
        w = rng.integers(width // 16, width // 3)
        h = rng.integers(height // 10, height // 2)
        if rng.random() < 0.7:
            corners = (int(x0), int(y0)), (int(x0 + w), int(y0 + h))
            cv2.rectangle(img, *corners, colour.tolist(), -1, cv2.LINE_AA)
            cv2.rectangle(img, *corners, (colour * 0.6).tolist(), 1,
                          cv2.LINE_AA)
        else:
            cv2.ellipse(img, (int(x0), int(y0)), (int(w // 2), int(h // 2)), 0,
                        0, 360, colour.tolist(), -1, cv2.LINE_AA)
    floor = _random_colour(rng, sat=(10, 120), val=(60, 190))
    fy = np.clip((np.arange(height, dtype=np.float32) - horizon) /
                 max(1, height - horizon), 0, 1)
    floor_img = floor * (0.75 + 0.35 * fy[:, None, None])
    img[horizon:] = floor_img[horizon:] * np.ones((1, width, 1), np.float32)
    # floor tiles / pavement lines converging to a vanishing point
    if rng.random() < 0.6:
        vx = rng.uniform(0, width)
        for x in np.linspace(-width, 2 * width, int(rng.integers(6, 14))):
            cv2.line(img, (int(vx), horizon), (int(x), height),
                     (floor * 0.7).tolist(), 1, cv2.LINE_AA)
    texture = _fractal_noise(rng, height, width)
    img *= (0.7 + 0.6 * texture)[..., None]
    img = cv2.GaussianBlur(img, (0, 0), 0.6)
    return np.clip(img, 0, 255)


def _roi(img, x_min, y_min, x_max, y_max):
    h, w = img.shape[:2]
    x0, y0 = max(0, int(np.floor(x_min))), max(0, int(np.floor(y_min)))
    x1, y1 = min(w, int(np.ceil(x_max)) + 1), min(h, int(np.ceil(y_max)) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    return (slice(y0, y1), slice(x0, x1)), xs, ys


def _shade(nx, ny, nz, light, specular):
    lam = np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0, 1)
    return AMBIENT + DIFFUSE * lam + specular * lam**16


def _blend(img, sl, cover, colour):
    roi = img[sl]
    roi += cover[..., None] * (colour - roi)


def draw_capsule(img,
                 p0,
                 p1,
                 r0,
                 r1,
                 colour,
                 light,
                 specular=0.08,
                 colour_fn=None):
    """Draw a shaded tapered capsule from p0 (radius r0) to p1 (radius r1) in
    place.

    colour_fn(xs, ys, t, normal) -> (h, w, 3) colours, optional: t in [0, 1]
    along the axis, normal = (nx, ny, nz) image-frame surface normal (y down, z
    towards the camera).
    """
    p0, p1 = np.asarray(p0, np.float32), np.asarray(p1, np.float32)
    rmax = max(r0, r1) + 1
    roi = _roi(img,
               min(p0[0], p1[0]) - rmax,
               min(p0[1], p1[1]) - rmax,
               max(p0[0], p1[0]) + rmax,
               max(p0[1], p1[1]) + rmax)
    if roi is None:
        return
    sl, xs, ys = roi
    d = p1 - p0
    t = np.clip(
        ((xs - p0[0]) * d[0] + (ys - p0[1]) * d[1]) / max(float(d @ d), 1e-6),
        0, 1)
    ox, oy = xs - (p0[0] + t * d[0]), ys - (p0[1] + t * d[1])
    dist = np.sqrt(ox * ox + oy * oy)
    r = r0 + (r1 - r0) * t
    cover = np.clip(r - dist + 0.5, 0, 1)
    nx, ny = ox / r, oy / r
    nz = np.sqrt(np.clip(1 - nx * nx - ny * ny, 0, 1))
    col = colour_fn(xs, ys, t,
                    (nx, ny, nz)) if colour_fn is not None else colour
    _blend(img, sl, cover,
           col * _shade(nx, ny, nz, light, specular)[..., None])


def draw_torso(img, top, bottom, widths, colour_fn, light):
    """Draw a shaded torso polygon around the axis top -> bottom in place.

    widths: (M, 2) array of (t along the axis, projected half width in px); the
    outline runs through axis(t) +- half_width * perpendicular and the surface
    is shaded as a cylinder.
    """
    top, bottom = np.asarray(top, np.float32), np.asarray(bottom, np.float32)
    axis = bottom - top
    length = max(float(np.linalg.norm(axis)), 1e-3)
    perp = np.array([-axis[1], axis[0]], np.float32) / length
    ts, hw = widths[:, 0], widths[:, 1]
    centre = top[None] + ts[:, None] * axis[None]
    outline = np.concatenate(
        [centre + hw[:, None] * perp, (centre - hw[:, None] * perp)[::-1]])
    lo, hi = outline.min(0) - 1, outline.max(0) + 1
    roi = _roi(img, lo[0], lo[1], hi[0], hi[1])
    if roi is None:
        return
    sl, xs, ys = roi
    mask = np.zeros(xs.shape, np.uint8)
    pts = np.round(
        (outline - [sl[1].start, sl[0].start]) * 16).astype(np.int32)
    cv2.fillPoly(mask, [pts], 255, cv2.LINE_AA, shift=4)
    cover = mask.astype(np.float32) * (1 / 255.0)
    t = ((xs - top[0]) * axis[0] + (ys - top[1]) * axis[1]) / (length * length)
    lateral = (xs - top[0]) * perp[0] + (ys - top[1]) * perp[1]
    nl = np.clip(lateral / np.maximum(np.interp(t, ts, hw), 1e-3), -1, 1)
    nx, ny = nl * perp[0], nl * perp[1]
    nz = np.sqrt(np.clip(1 - nl * nl, 0, 1))
    col = colour_fn(xs, ys, np.clip(t, 0, 1.2), (nx, ny, nz))
    _blend(img, sl, cover, col * _shade(nx, ny, nz, light, 0.05)[..., None])


def _stripe_fn(base, period_px):
    if period_px <= 0:
        return lambda xs, ys, t, n: base

    def fn(xs, ys, t, n):
        stripe = 0.5 + 0.5 * np.sin(2 * np.pi * ys / period_px)
        return base * (1 - 0.3 * np.clip(3 * stripe - 1.2, 0, 1))[..., None]

    return fn


def _limbs(st):
    """``(joint, joint, radius, radius, colour, depth bias, striped,
    specular)`` of every capsule of a person of style ``st``, radii in units of
    girth x height."""
    rows = []
    for side in ('left', 'right'):
        sh, el, wr, ha, hi, kn, an, to = (f'{side}_{name}'
                                          for name in ('shoulder', 'elbow',
                                                       'wrist', 'hand', 'hip',
                                                       'knee', 'ankle', 'toe'))
        rows += [
            (sh, el, 0.042, 0.034, st.shirt, 0.0, True, 0.08),
            (el, wr, 0.032, 0.026, st.shirt if st.long_sleeves else st.skin,
             0.0, st.long_sleeves, 0.15),
            (wr, ha, 0.028, 0.03, st.skin, 0.0, False, 0.15),
            (hi, kn, 0.062, 0.047, st.pants, 0.03, False, 0.08),
            (kn, an, 0.046, 0.032, st.skin if st.shorts else st.pants, 0.03,
             False, 0.08),
            (an, to, 0.03, 0.026, st.shoes, 0.028, False, 0.2),
        ]
    return rows + [
        ('neck', 'head_bottom', 0.036, 0.034, st.skin, 0.025, False, 0.08)
    ]


def _torso_part(track: PersonTrack, t, shirt):
    """``(depth, draw)`` of the torso; its projected widths shrink towards the
    chest depth when the person is seen sideways."""
    P, s, st = track.points[t], float(track.height[t]), track.style
    yaw = float(track.yaw[t])
    proj = np.sqrt(np.cos(yaw)**2 + (0.62 * np.sin(yaw))**2)
    sh = st.shoulder_half + 0.028 * st.girth
    hp = st.hip_half + 0.045 * st.girth
    table = np.array([[-0.13, 0.05], [-0.07, 0.45 * sh], [0.02, 0.95 * sh],
                      [0.12, sh], [0.35, 0.93 * sh],
                      [0.62, 0.86 * min(sh, hp * 1.15)], [0.92, hp],
                      [1.12, 0.95 * hp]])
    widths = np.stack([table[:, 0], table[:, 1] * proj * s], 1)
    widths[0, 1] = max(widths[0, 1], 0.036 * (st.girth * s))

    def torso_colour(xs, ys, tt, n):
        col = np.where((tt > 0.86)[..., None], st.pants.astype(np.float32),
                       np.broadcast_to(shirt(xs, ys, tt, n), xs.shape + (3, )))
        return col.astype(np.float32)

    return (track.depth[t, JOINT_INDEX['pelvis']] + 0.02 * s,
            partial(
                draw_torso,
                top=P[JOINT_INDEX['neck']],
                bottom=P[JOINT_INDEX['pelvis']],
                widths=widths,
                colour_fn=torso_colour))


def _head_parts(track: PersonTrack, t):
    """``(depth, draw)`` of the head (hair towards ``hair_dirs``) and, on
    figures of 70 px and more, of the eyes that face the camera."""
    P, D, s = track.points[t], track.depth[t], float(track.height[t])
    st, J, hair_dir = track.style, JOINT_INDEX, track.hair_dirs[t]

    def head_colour(xs, ys, tt, n):
        hair = (n[0] * hair_dir[0] + n[1] * hair_dir[1] +
                n[2] * hair_dir[2]) > -0.12
        return np.where(hair[..., None], st.hair.astype(np.float32),
                        st.skin.astype(np.float32))

    hc, top = P[J['head_center']], P[J['head_top']]
    up = (top - hc) / max(float(np.linalg.norm(top - hc)), 1e-3)
    head_depth = D[J['head_center']] - 0.05 * s
    parts = [(head_depth,
              partial(
                  draw_capsule,
                  p0=hc - 0.012 * s * up,
                  p1=hc + 0.012 * s * up,
                  r0=0.062 * s,
                  r1=0.06 * s,
                  colour=st.skin,
                  specular=0.12,
                  colour_fn=head_colour))]
    if s >= 70:
        for eye in ('left_eye', 'right_eye'):
            if D[J[eye]] < D[J['head_center']] - 0.025 * s:
                e = P[J[eye]]
                parts.append((head_depth - 1.0,
                              partial(
                                  draw_capsule,
                                  p0=e,
                                  p1=e,
                                  r0=0.008 * s,
                                  r1=0.008 * s,
                                  colour=np.float32([30, 30, 40]))))
    return parts


def _person_parts(track: PersonTrack, t):
    """Drawing callables ``draw(img, light=...)`` of the person at frame t, far
    to near."""
    P, D, s = track.points[t], track.depth[t], float(track.height[t])
    g, pelvis_depth = track.style.girth * s, D[JOINT_INDEX['pelvis']]
    shirt = _stripe_fn(track.style.shirt, track.style.stripes * s)
    parts = []
    for a, b, r0, r1, colour, bias, striped, spec in _limbs(track.style):
        a, b = JOINT_INDEX[a], JOINT_INDEX[b]
        depth = 0.5 * (D[a] + D[b])
        # parts behind the body are a little darker (ambient occlusion)
        far = 1 - 0.18 * np.clip((depth - pelvis_depth) / (0.12 * s), 0, 1)
        colour_fn = (lambda xs, ys, tt, n, far=far: shirt(xs, ys, tt, n) * far
                     ) if striped else None
        parts.append((depth + bias * s,
                      partial(
                          draw_capsule,
                          p0=P[a],
                          p1=P[b],
                          r0=r0 * g,
                          r1=r1 * g,
                          colour=colour * far,
                          specular=spec,
                          colour_fn=colour_fn)))
    parts.append(_torso_part(track, t, shirt))
    parts += _head_parts(track, t)
    parts.sort(key=lambda item: -item[0])
    return [draw for _, draw in parts]


def draw_person(img, track, t, light, alpha=1.0):
    """Draw person `track` at frame t into img (float32, in place); alpha < 1
    makes it faint."""
    layer = img if alpha >= 1.0 else img.copy()
    for draw in _person_parts(track, t):
        draw(layer, light=light)
    if alpha < 1.0:
        img += alpha * (layer - img)


def occluder_polygon(rng, centre, size, kind):
    """Outline (N, 2) of an occluder of `kind` ('box', 'blob', 'pole') around
    `centre`."""
    cx, cy = centre
    if kind == 'blob':
        ang = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        wobble = np.convolve(
            np.tile(rng.uniform(0.7, 1.0, 24), 3),
            np.ones(5) / 5, 'same')[24:48]
        r = 0.5 * size * wobble
        return np.stack([cx + r * np.cos(ang), cy + r * 0.8 * np.sin(ang)], 1)
    if kind == 'pole':
        half_w, half_h = 0.18 * size, 2.5 * size
    else:
        half_w, half_h = 0.5 * size * rng.uniform(
            0.8, 1.2), 0.45 * size * rng.uniform(0.8, 1.2)
    a = rng.uniform(-0.25, 0.25)
    corners = np.array([[-half_w, -half_h], [half_w, -half_h],
                        [half_w, half_h], [-half_w, half_h]])
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return corners @ rot.T + [cx, cy]


def _contrasting(base, covered, min_gap=70.0):
    """Rescale `base` (3,) so its brightness differs by >= min_gap from the
    covered pixels (N, 3).

    An occluder that happens to match the clothes it covers would not hide
    anything.
    """
    if len(covered) == 0:
        return base
    under, lum = float(covered.mean()), float(base.mean())
    if abs(lum - under) >= min_gap:
        return base
    target = under - min_gap if under > 127 else under + min_gap
    return np.clip(base * (target / max(lum, 1.0)), 0, 255).astype(np.float32)


def draw_occluder(img, rng, polygon, kind):
    """Draw a textured occluder filling `polygon` (N, 2) in place; returns its
    (H, W) mask."""
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(
        mask, [np.round(polygon * 16).astype(np.int32)],
        255,
        cv2.LINE_AA,
        shift=4)
    cover = mask.astype(np.float32) / 255.0
    if kind == 'blob':  # foliage-like
        base = np.float32(
            [rng.uniform(20, 70),
             rng.uniform(80, 160),
             rng.uniform(30, 90)])
        texture = 0.5 + 0.8 * _fractal_noise(
            rng, h, w, cells=(12, 4, 2), weights=(.3, .4, .3))
    else:
        base = _random_colour(rng, sat=(30, 200), val=(40, 200))
        texture = 0.75 + 0.5 * _fractal_noise(rng, h, w, cells=(24, 8, 3))
        if rng.random() < 0.5:
            xs = np.arange(w, dtype=np.float32)[None]
            texture = texture * (
                0.85 + 0.15 * np.sign(np.sin(xs / rng.uniform(2, 5))))
    base = _contrasting(base, img[cover > 0.5])
    shade = 0.8 + 0.4 * np.linspace(0, 1, w, dtype=np.float32)[None]
    colour = base[None, None] * (texture * shade)[..., None]
    img += cover[..., None] * (colour - img)
    return cover


def motion_blur_kernel(length, angle):
    """Normalised line kernel (k, k) of `length` px at `angle` radians."""
    k = int(np.ceil(length)) | 1
    kernel = np.zeros((k, k), np.float32)
    c = k // 2
    dx = 0.5 * (length - 1) * np.cos(angle)
    dy = 0.5 * (length - 1) * np.sin(angle)
    cv2.line(
        kernel, (int(round(c * 16 - dx * 16)), int(round(c * 16 - dy * 16))),
        (int(round(c * 16 + dx * 16)), int(round(c * 16 + dy * 16))),
        1.0,
        1,
        cv2.LINE_AA,
        shift=4)
    return kernel / kernel.sum()


def apply_motion_blur(img, length, angle, box=None):
    """Directional blur of the whole image, or only inside `box` (x0, y0, x1,
    y1), soft-edged."""
    kernel = motion_blur_kernel(length, angle)
    blurred = cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REFLECT)
    if box is None:
        return blurred
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.float32)
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    mask[max(0, y0):max(0, y1), max(0, x0):max(0, x1)] = 1
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, length / 3))[..., None]
    return img + mask * (blurred - img)


def finish_frame(img, rng, noise_sigma):
    """Sensor noise and quantisation: float image -> uint8 (H, W, 3)."""
    noisy = img + rng.normal(0, noise_sigma, img.shape).astype(np.float32)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)

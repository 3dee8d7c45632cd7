/// A small PNG reader in Python (no imaging library is installed).
///
/// Given a screenshot and colours as `RRGGBB`, it prints the picture's size, how many
/// distinct colours it has and, for each colour asked for, how many pixels are that colour (within 4 per channel):
/// `size=1200x900 colours=1234 2e7d32=5678`.
let pngColoursScript = #"""
    import struct, sys, zlib
    from collections import Counter

    def pixels(path):
        data = open(path, "rb").read()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
        position, chunks = 8, {}
        while position < len(data):
            length, kind = struct.unpack(">I4s", data[position:position + 8])
            chunks.setdefault(kind, []).append(data[position + 8:position + 8 + length])
            position += 12 + length
        width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][0][:10])
        assert depth == 8 and colour in (2, 6), f"depth {depth} colour type {colour}"
        size = 3 if colour == 2 else 4
        raw = zlib.decompress(b"".join(chunks[b"IDAT"]))
        stride, previous, rows = width * size, bytearray(width * size), []
        for row in range(height):
            start = row * (stride + 1)
            kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
            for i in range(stride):
                left = line[i - size] if i >= size else 0
                up = previous[i]
                corner = previous[i - size] if i >= size else 0
                if kind == 1: line[i] = (line[i] + left) & 255
                elif kind == 2: line[i] = (line[i] + up) & 255
                elif kind == 3: line[i] = (line[i] + (left + up) // 2) & 255
                elif kind == 4:
                    p = left + up - corner
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                    line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
            rows.append(line)
            previous = line
        return width, height, size, rows

    width, height, size, rows = pixels(sys.argv[1])
    counts = Counter()
    for line in rows:
        for i in range(0, len(line), size):
            counts[bytes(line[i:i + 3])] += 1
    def pixels_near(name):
        target = bytes.fromhex(name)
        return sum(n for c, n in counts.items() if all(abs(c[k] - target[k]) <= 4 for k in range(3)))
    words = [f"size={width}x{height}", f"colours={len(counts)}"]
    words += [f"{name}={pixels_near(name)}" for name in sys.argv[2:]]
    print(" ".join(words))
    """#

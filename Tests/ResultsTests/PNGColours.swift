/// A small PNG reader in Python (no imaging library is installed): prints the size of a
/// screenshot, whether it has more than 50 colours, and whether the timeline's green and red
/// appear in it.
let pngColoursScript = #"""
    import struct, sys, zlib

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
    colours = set()
    for line in rows:
        for i in range(0, len(line), size):
            colours.add(bytes(line[i:i + 3]))
    def near(target):
        return any(all(abs(c[k] - target[k]) <= 4 for k in range(3)) for c in colours)
    print(f"{width}x{height} colours>50={len(colours) > 50} green={near((46, 125, 50))} red={near((198, 40, 40))}")
    """#

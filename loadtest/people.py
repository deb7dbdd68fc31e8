"""Realistic Vietnamese viewer profiles (display name, full name, unit, phone) for load tests.

Deterministic for a given ``random.Random``; about 40 x 30 x 60 x 50 combinations, with the
real-world skew that a few family names (Nguyễn, Trần, Lê…) cover most people.
"""

from __future__ import annotations

import random

# family names with rough weights (Nguyễn ~ 38 %, Trần ~ 11 %, Lê ~ 9.5 % …)
FAMILY = [
    ("Nguyễn", 38), ("Trần", 11), ("Lê", 9.5), ("Phạm", 7), ("Hoàng", 5), ("Huỳnh", 4), ("Phan", 4.5),
    ("Vũ", 3.9), ("Võ", 3), ("Đặng", 2.1), ("Bùi", 2), ("Đỗ", 1.4), ("Hồ", 1.3), ("Ngô", 1.3),
    ("Dương", 1), ("Lý", 0.5), ("Đinh", 0.6), ("Trương", 0.6), ("Lương", 0.4), ("Mai", 0.4),
    ("Tạ", 0.3), ("Hà", 0.4), ("Cao", 0.3), ("Lâm", 0.3), ("Thái", 0.2), ("Tô", 0.2),
]
MIDDLE_F = ["Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Phương", "Hồng", "Kim", "Bảo", "Mỹ"]
MIDDLE_M = ["Văn", "Văn", "Đức", "Minh", "Quang", "Hữu", "Công", "Thành", "Xuân", "Trọng", "Anh", "Gia"]
GIVEN_F = ["Hoa", "Lan", "Hương", "Mai", "Linh", "Trang", "Thảo", "Hằng", "Ngọc", "Phương", "Hạnh", "Thủy",
           "Yến", "Nhung", "Hà", "Vân", "Oanh", "Quyên", "Diệp", "Nga", "Tuyết", "Loan", "Ánh", "Châu",
           "Trinh", "Giang", "Uyên", "Nhi", "My", "Thư"]
GIVEN_M = ["Hùng", "Dũng", "Tuấn", "Minh", "Nam", "Long", "Phong", "Quân", "Sơn", "Thắng", "Hải", "Hiếu",
           "Khánh", "Trung", "Đức", "Toàn", "Vinh", "Bình", "Cường", "Hưng", "Lộc", "Phúc", "Tâm", "Thịnh",
           "Việt", "Khoa", "Bảo", "Nghĩa", "Tài", "Kiên"]

DEPARTMENTS = [
    "Sở Nội vụ", "Sở Tư pháp", "Sở Tài chính", "Sở Kế hoạch và Đầu tư", "Sở Y tế", "Sở Giáo dục và Đào tạo",
    "Sở Tài nguyên và Môi trường", "Sở Xây dựng", "Sở Giao thông vận tải", "Sở Công Thương",
    "Sở Nông nghiệp và Phát triển nông thôn", "Sở Thông tin và Truyền thông", "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Lao động - Thương binh và Xã hội", "Sở Khoa học và Công nghệ", "Văn phòng UBND tỉnh", "Thanh tra tỉnh",
    "Ban Quản lý các khu công nghiệp", "Công an tỉnh", "Bảo hiểm xã hội tỉnh", "Cục Thuế tỉnh",
    "Kho bạc Nhà nước tỉnh", "Trung tâm Phục vụ hành chính công tỉnh", "Đài Phát thanh và Truyền hình tỉnh",
]
DISTRICTS = [
    "Vạn Ninh", "Ninh Hòa", "Diên Khánh", "Khánh Vĩnh", "Khánh Sơn", "Cam Lâm", "Trường Sa", "Cam Ranh",
    "Nha Trang", "Ninh Hải", "Thuận Bắc", "Bác Ái", "Ninh Sơn", "Ninh Phước", "Thuận Nam",
]
WARDS = ["Vạn Thắng", "Vạn Giã", "Ninh Hiệp", "Ninh Đa", "Diên An", "Diên Phú", "Cam Đức", "Cam Hải Tây",
         "Phước Long", "Vĩnh Hải", "Lộc Thọ", "Xương Huân", "Tân Lập", "Phương Sài", "Ba Ngòi"]
SCHOOLS = ["Trường THPT Lê Quý Đôn", "Trường THCS Nguyễn Hiền", "Trường Tiểu học Phước Tiến",
           "Trường Đại học Nha Trang", "Trường Cao đẳng Y tế"]
PHONE_PREFIXES = ["090", "091", "093", "094", "096", "097", "098", "086", "088", "032", "033", "035",
                  "037", "038", "039", "070", "076", "077", "079", "081", "083", "085"]

_FAMILY_NAMES = [f for f, _ in FAMILY]
_FAMILY_WEIGHTS = [w for _, w in FAMILY]


def unit(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.40:
        return rng.choice(DEPARTMENTS)
    if r < 0.65:
        return f"UBND huyện {rng.choice(DISTRICTS)}"
    if r < 0.85:
        return f"UBND {rng.choice(['xã', 'phường', 'thị trấn'])} {rng.choice(WARDS)}"
    if r < 0.95:
        return rng.choice(SCHOOLS)
    return f"Phòng Nội vụ huyện {rng.choice(DISTRICTS)}"


def profile(rng: random.Random, with_phone: bool = True) -> dict[str, str]:
    """A join profile: ``name`` (display, ≤ 32 chars), ``full_name``, ``unit`` and maybe ``phone``."""
    female = rng.random() < 0.5
    family = rng.choices(_FAMILY_NAMES, _FAMILY_WEIGHTS)[0]
    middle = rng.choice(MIDDLE_F if female else MIDDLE_M)
    given = rng.choice(GIVEN_F if female else GIVEN_M)
    full = f"{family} {middle} {given}"
    # display names as people type them: the given name, "middle given", or the full name
    r = rng.random()
    if middle in ("Thị", "Văn"):
        r *= 0.6  # nobody displays "Thị Hoa"
    display = given if r < 0.4 else f"{middle} {given}" if r < 0.7 else full
    out = {"name": display[:32], "full_name": full, "unit": unit(rng)}
    if with_phone:
        p = f"{rng.choice(PHONE_PREFIXES)}{rng.randrange(10**7):07d}"
        out["phone"] = f"{p[:4]} {p[4:7]} {p[7:]}" if rng.random() < 0.5 else p
    return out

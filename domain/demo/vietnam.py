"""Vietnamese name, place, company and phone pools for the demo data set.

Every pool is a plain tuple so that iteration order (and therefore the generated data) is the same
in every process; weights are relative frequencies.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")


class Weighted(Generic[T]):
    """A weighted pool with cumulative weights precomputed for fast ``random.choices``."""

    __slots__ = ("cum", "values")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.values: list[T] = [v for v, _ in pairs]
        self.cum: list[float] = list(accumulate(w for _, w in pairs))

    def pick(self, rng: random.Random) -> T:
        return rng.choices(self.values, cum_weights=self.cum)[0]

    def sample(self, rng: random.Random, k: int) -> list[T]:
        return rng.choices(self.values, cum_weights=self.cum, k=k)


# --- People --------------------------------------------------------------------------------------

# Family names with approximate national frequencies (percent).
FAMILY_NAMES: Weighted[str] = Weighted(
    [
        ("Nguyễn", 38.0),
        ("Trần", 11.0),
        ("Lê", 9.5),
        ("Phạm", 7.1),
        ("Hoàng", 3.1),
        ("Huỳnh", 2.0),
        ("Phan", 4.5),
        ("Vũ", 2.2),
        ("Võ", 1.7),
        ("Đặng", 2.1),
        ("Bùi", 2.0),
        ("Đỗ", 1.4),
        ("Hồ", 1.3),
        ("Ngô", 1.3),
        ("Dương", 1.0),
        ("Lý", 0.5),
        ("Đinh", 0.6),
        ("Trương", 0.6),
        ("Mai", 0.4),
        ("Lâm", 0.4),
        ("Cao", 0.3),
        ("Tạ", 0.2),
        ("Lưu", 0.2),
        ("Châu", 0.2),
    ]
)

MALE_MIDDLE_NAMES: Weighted[str] = Weighted(
    [
        ("Văn", 30),
        ("Đức", 10),
        ("Minh", 12),
        ("Hữu", 8),
        ("Quang", 7),
        ("Thanh", 6),
        ("Công", 5),
        ("Quốc", 5),
        ("Xuân", 3),
        ("Tuấn", 3),
        ("Hoàng", 3),
        ("Gia", 3),
        ("Anh", 2),
        ("Ngọc", 2),
        ("Trọng", 3),
    ]
)

FEMALE_MIDDLE_NAMES: Weighted[str] = Weighted(
    [
        ("Thị", 45),
        ("Ngọc", 10),
        ("Thanh", 7),
        ("Minh", 5),
        ("Thu", 6),
        ("Phương", 4),
        ("Kim", 4),
        ("Mỹ", 4),
        ("Hồng", 4),
        ("Bảo", 3),
        ("Khánh", 3),
        ("Diệu", 2),
        ("Hải", 2),
        ("Quỳnh", 1),
    ]
)

MALE_GIVEN_NAMES: tuple[str, ...] = (
    "An", "Anh", "Bảo", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Định", "Đông", "Giang", "Hải",
    "Hào", "Hiếu", "Hiển", "Hòa", "Hoàng", "Huy", "Hùng", "Khang", "Khánh", "Khoa", "Kiên",
    "Lâm", "Linh", "Lộc", "Long", "Luân", "Mạnh", "Minh", "Nam", "Nghĩa", "Nhân", "Phát", "Phong",
    "Phúc", "Quân", "Quang", "Sơn", "Tài", "Tâm", "Thắng", "Thành", "Thiện", "Thịnh", "Toàn",
    "Trí", "Trung", "Tuấn", "Tùng", "Việt", "Vinh", "Vũ", "Hưng", "Hiệp",
)  # fmt: skip

FEMALE_GIVEN_NAMES: tuple[str, ...] = (
    "An", "Anh", "Ánh", "Châu", "Chi", "Diễm", "Diệp", "Dung", "Duyên", "Giang", "Hà", "Hạnh",
    "Hằng", "Hiền", "Hoa", "Hương", "Huyền", "Khánh", "Lan", "Liên", "Linh", "Loan", "Mai",
    "My", "Nga", "Ngân", "Ngọc", "Nhung", "Như", "Nhi", "Oanh", "Phương", "Quyên", "Quỳnh",
    "Tâm", "Thảo", "Thanh", "Thu", "Thủy", "Trang", "Trâm", "Trinh", "Tuyết", "Uyên", "Vân",
    "Vy", "Xuân", "Yến",
)  # fmt: skip

# --- Places --------------------------------------------------------------------------------------

# (city, weight, landline area code, postal code prefix, districts)
CITIES: tuple[tuple[str, float, str, str, tuple[str, ...]], ...] = (
    ("TP. Hồ Chí Minh", 34, "28", "70", (
        "Quận 1", "Quận 3", "Quận 4", "Quận 5", "Quận 7", "Quận 10", "Quận Bình Thạnh",
        "Quận Phú Nhuận", "Quận Tân Bình", "Quận Gò Vấp", "TP. Thủ Đức", "Quận Tân Phú",
    )),
    ("Hà Nội", 30, "24", "10", (
        "Quận Ba Đình", "Quận Hoàn Kiếm", "Quận Đống Đa", "Quận Hai Bà Trưng", "Quận Cầu Giấy",
        "Quận Thanh Xuân", "Quận Tây Hồ", "Quận Hoàng Mai", "Quận Long Biên", "Quận Nam Từ Liêm",
        "Quận Hà Đông",
    )),
    ("Đà Nẵng", 8, "236", "50", (
        "Quận Hải Châu", "Quận Thanh Khê", "Quận Sơn Trà", "Quận Ngũ Hành Sơn", "Quận Liên Chiểu",
    )),
    ("Hải Phòng", 6, "225", "18", ("Quận Hồng Bàng", "Quận Lê Chân", "Quận Ngô Quyền")),
    ("Cần Thơ", 5, "292", "94", ("Quận Ninh Kiều", "Quận Bình Thủy", "Quận Cái Răng")),
    ("Biên Hòa", 4, "251", "76", ("Phường Tân Phong", "Phường Trảng Dài", "Phường Long Bình")),
    ("Nha Trang", 3.5, "258", "57", ("Phường Lộc Thọ", "Phường Vĩnh Hải", "Phường Phước Long")),
    ("Huế", 3.5, "234", "49", ("Phường Phú Hội", "Phường Vĩnh Ninh", "Phường Thuận Hòa")),
    ("Vũng Tàu", 2.5, "254", "78", ("Phường 1", "Phường Thắng Tam", "Phường Rạch Dừa")),
    ("Quy Nhơn", 1.5, "256", "55", ("Phường Lê Lợi", "Phường Trần Phú", "Phường Ghềnh Ráng")),
    ("Đà Lạt", 1.5, "263", "66", ("Phường 1", "Phường 3", "Phường 10")),
    ("Bắc Ninh", 1.5, "222", "16", ("Phường Suối Hoa", "Phường Kinh Bắc", "Phường Võ Cường")),
)  # fmt: skip

CITY_POOL: Weighted[int] = Weighted([(i, c[1]) for i, c in enumerate(CITIES)])

STREETS: tuple[str, ...] = (
    "Lê Lợi", "Nguyễn Huệ", "Trần Hưng Đạo", "Hai Bà Trưng", "Lý Thường Kiệt", "Điện Biên Phủ",
    "Nguyễn Trãi", "Lê Duẩn", "Phan Chu Trinh", "Quang Trung", "Hùng Vương", "Trần Phú",
    "Nguyễn Văn Linh", "Võ Văn Kiệt", "Cách Mạng Tháng Tám", "Nguyễn Thị Minh Khai", "Pasteur",
    "Lạc Long Quân", "Xuân Thủy", "Kim Mã", "Láng Hạ", "Bạch Đằng", "Hoàng Diệu", "Phạm Văn Đồng",
)  # fmt: skip

WARDS: tuple[str, ...] = (
    "Phường Bến Nghé", "Phường 2", "Phường 5", "Phường 7", "Phường 12", "Phường Tân Định",
    "Phường Dịch Vọng", "Phường Láng Thượng", "Phường Trung Hòa", "Phường An Hải Bắc",
    "Phường Thạc Gián", "Phường Cát Linh", "Phường Đa Kao", "Phường Thảo Điền",
)  # fmt: skip

# --- Companies -----------------------------------------------------------------------------------

BRAND_WORDS: tuple[str, ...] = (
    "Minh", "Phát", "Sao", "Việt", "Hòa", "Bình", "Thành", "Công", "An", "Khang", "Phú", "Thịnh",
    "Đại", "Nam", "Tân", "Long", "Hưng", "Tiến", "Hoàng", "Gia", "Trường", "Sơn", "Hải", "Đông",
    "Á", "Bắc", "Kim", "Ngọc", "Bảo", "Quang", "Thiên", "Phúc", "Lộc", "Tài", "Đức", "Trí",
    "Vạn", "Hồng", "Lam", "Nhật", "Tín", "Hợp", "Nhất", "Mỹ", "Thái", "Vĩnh", "Toàn", "Cầu",
)  # fmt: skip

# (industry, weight, Vietnamese legal-name qualifier, English-ish brand suffix, size range)
INDUSTRIES: tuple[tuple[str, float, str, str, tuple[int, int]], ...] = (
    ("Retail", 14, "Thương mại", "Mart", (5, 800)),
    ("Manufacturing", 12, "Sản xuất", "Industries", (30, 5000)),
    ("Logistics", 9, "Giao nhận Vận tải", "Logistics", (10, 2000)),
    ("Software", 11, "Công nghệ", "Tech", (5, 1500)),
    ("Banking", 3, "Dịch vụ Tài chính", "Finance", (50, 5000)),
    ("Real Estate", 8, "Đầu tư Bất động sản", "Land", (10, 1200)),
    ("Hospitality", 7, "Du lịch Khách sạn", "Hospitality", (10, 900)),
    ("Education", 7, "Giáo dục", "Edu", (5, 600)),
    ("Healthcare", 7, "Dịch vụ Y tế", "Health", (10, 1500)),
    ("Agriculture", 8, "Nông sản", "Agri", (10, 2500)),
    ("F&B", 14, "Thực phẩm", "Foods", (5, 1200)),
)

INDUSTRY_POOL: Weighted[int] = Weighted([(i, ind[1]) for i, ind in enumerate(INDUSTRIES)])

LEGAL_FORMS: Weighted[str] = Weighted(
    [
        ("Công ty TNHH", 55),
        ("Công ty Cổ phần", 35),
        ("Công ty TNHH MTV", 7),
        ("Tập đoàn", 3),
    ]
)

DOMAIN_SUFFIXES: Weighted[str] = Weighted([(".vn", 45), (".com.vn", 35), (".com", 20)])

ORG_MAILBOXES: tuple[str, ...] = ("info", "contact", "lienhe", "sales", "hotro", "cskh")

PERSONAL_MAIL_DOMAINS: Weighted[str] = Weighted(
    [("gmail.com", 70), ("yahoo.com", 10), ("outlook.com", 8), ("icloud.com", 5), ("fpt.vn", 4),
     ("vnn.vn", 3)]
)  # fmt: skip

JOB_TITLES: Weighted[str] = Weighted(
    [
        ("Giám đốc", 5),
        ("CEO", 3),
        ("Phó Giám đốc", 4),
        ("Giám đốc Kinh doanh", 5),
        ("Sales Manager", 5),
        ("Trưởng phòng Kinh doanh", 6),
        ("Nhân viên Kinh doanh", 12),
        ("Kế toán trưởng", 5),
        ("Kế toán", 8),
        ("Trưởng phòng Mua hàng", 5),
        ("Purchasing Manager", 3),
        ("Marketing Manager", 5),
        ("Chuyên viên Marketing", 6),
        ("Trưởng phòng Nhân sự", 4),
        ("HR Manager", 3),
        ("IT Manager", 3),
        ("Kỹ sư phần mềm", 5),
        ("Trợ lý Giám đốc", 4),
        ("Chuyên viên Chăm sóc khách hàng", 4),
        ("CFO", 1),
        ("COO", 1),
    ]
)

# --- Phones --------------------------------------------------------------------------------------

# Mobile prefixes (national form without the leading 0 once converted to +84).
MOBILE_PREFIXES: Weighted[str] = Weighted(
    [
        ("090", 10), ("091", 9), ("093", 7), ("097", 9), ("098", 9), ("086", 5), ("088", 4),
        ("032", 4), ("033", 4), ("034", 4), ("035", 4), ("036", 4), ("037", 4), ("038", 4),
        ("039", 4), ("094", 4), ("096", 5), ("070", 2), ("079", 2), ("077", 2), ("081", 2),
        ("083", 2), ("084", 2), ("085", 2),
    ]
)  # fmt: skip


def mobile_number(rng: random.Random) -> str:
    """A Vietnamese mobile number in E.164 (``+84`` and nine national digits)."""
    return "+84" + MOBILE_PREFIXES.pick(rng)[1:] + f"{rng.randrange(10_000_000):07d}"


def landline_number(rng: random.Random, city_index: int) -> str:
    """A landline in the city's area code, E.164 (ten national digits)."""
    area = CITIES[city_index][2]
    if len(area) == 2:  # Hà Nội / TP.HCM: 02x + 8 digits, subscriber numbers start with 3 or 6
        return "+84" + area + rng.choice("36") + f"{rng.randrange(10_000_000):07d}"
    return "+84" + area + f"{rng.randrange(10_000_000):07d}"


# --- Sales and marketing -------------------------------------------------------------------------

SOURCE_CHANNELS: Weighted[str] = Weighted(
    [
        ("website", 30),
        ("facebook", 20),
        ("zalo", 20),
        ("referral", 12),
        ("event", 10),
        ("cold-call", 8),
    ]
)

CAMPAIGNS: dict[str, tuple[str, ...]] = {
    "website": ("SEO Blog 2026", "Google Ads Q2/2026", "Dùng thử miễn phí", "Webinar CRM 101"),
    "facebook": ("Tết Bính Ngọ 2026", "Black Friday 2025", "Lead Ads Q3/2026", "Mid-Autumn Promo"),
    "zalo": ("Zalo OA Tháng 3", "Zalo ZNS Khuyến mãi", "Mini App Loyalty"),
    "referral": ("Giới thiệu bạn bè 2026", "Partner Program"),
    "event": ("Vietnam Expo 2026", "Techfest Đà Nẵng 2026", "Hội thảo Chuyển đổi số", "event-2026"),
    "cold-call": ("Outbound Q1/2026", "Outbound Q3/2026"),
}

UTM_MEDIUM = {"website": "cpc", "facebook": "paid_social", "zalo": "social", "event": "offline"}

TAG_VOCABULARY: tuple[str, ...] = (
    "vip", "hanoi", "hcmc", "newsletter", "event-2026", "partner", "b2b", "b2c",
)  # fmt: skip

# Same values as ``domain.customers.commands.LIFECYCLE_STAGES``.
LIFECYCLE_STAGES: tuple[str, ...] = (
    "SUBSCRIBER", "LEAD", "MQL", "SQL", "OPPORTUNITY", "CUSTOMER", "EVANGELIST", "CHURNED",
)  # fmt: skip

# Initial distribution before opportunities promote customers to OPPORTUNITY / CUSTOMER.
PERSON_LIFECYCLE: Weighted[str] = Weighted(
    [("SUBSCRIBER", 22), ("LEAD", 40), ("MQL", 16), ("SQL", 9), ("CUSTOMER", 9),
     ("EVANGELIST", 1.5), ("CHURNED", 2.5)]
)  # fmt: skip
ORG_LIFECYCLE: Weighted[str] = Weighted(
    [("LEAD", 40), ("MQL", 15), ("SQL", 15), ("CUSTOMER", 24), ("EVANGELIST", 2), ("CHURNED", 4)]
)

# --- Staff ---------------------------------------------------------------------------------------

# (team name, [(role, count)], lead role)
TEAMS: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = (
    ("Kinh doanh Hà Nội", (("MANAGER", 1), ("SALES", 6))),
    ("Kinh doanh TP.HCM", (("MANAGER", 1), ("SALES", 6))),
    ("Kinh doanh Miền Trung", (("MANAGER", 1), ("SALES", 6))),
    ("Khách hàng Doanh nghiệp", (("MANAGER", 1), ("SALES", 6))),
    ("Chăm sóc Khách hàng", (("MANAGER", 1), ("SUPPORT", 6))),
    ("Vận hành & Phân tích", (("MANAGER", 1), ("ADMIN", 1), ("ANALYST", 3))),
)

# --- Pipelines -----------------------------------------------------------------------------------

# (name, is_default, [(stage name, probability)])
PIPELINES: tuple[tuple[str, bool, tuple[tuple[str, int], ...]], ...] = (
    (
        "Bán hàng B2B",
        True,
        (
            ("Tiếp cận", 10),
            ("Đánh giá nhu cầu", 25),
            ("Đề xuất giải pháp", 45),
            ("Đàm phán", 70),
            ("Chờ ký hợp đồng", 90),
        ),
    ),
    (
        "Bán lẻ",
        False,
        (("Quan tâm", 15), ("Tư vấn", 40), ("Báo giá", 65), ("Chờ thanh toán", 90)),
    ),
)

B2B_PRODUCTS: tuple[str, ...] = (
    "Gói phần mềm CRM Doanh nghiệp", "Hợp đồng cung cấp thiết bị", "Dịch vụ vận chuyển năm 2026",
    "Triển khai ERP", "Hợp đồng bảo trì", "Đơn hàng nguyên liệu Q4", "Gói tư vấn chuyển đổi số",
    "Enterprise license renewal", "Cloud migration project", "Hợp đồng khung cung ứng",
    "Quà tặng Tết doanh nghiệp", "Thuê văn phòng",
)  # fmt: skip

RETAIL_PRODUCTS: tuple[str, ...] = (
    "Đơn hàng online", "Gói thành viên VIP", "Combo sản phẩm Tết", "Khóa học tiếng Anh",
    "Gói khám sức khỏe", "Tour du lịch Phú Quốc", "Laptop văn phòng", "Bảo hiểm sức khỏe",
    "Căn hộ studio", "Premium subscription",
)  # fmt: skip

LOST_REASONS: tuple[str, ...] = (
    "Giá cao hơn đối thủ", "Khách hàng chưa có ngân sách", "Chọn nhà cung cấp khác",
    "Không liên lạc được", "Timing not right", "Dự án bị hoãn",
)  # fmt: skip

# --- Activities ----------------------------------------------------------------------------------

INTERACTION_KINDS: Weighted[str] = Weighted(
    [
        ("EMAIL", 30),
        ("CALL", 20),
        ("MEETING", 8),
        ("NOTE", 11),
        ("CHAT", 13),
        ("SMS", 6),
        ("VISIT", 4),
        ("FORM", 4),
        ("WEB", 4),
    ]
)

INTERACTION_SUBJECTS: dict[str, tuple[str, ...]] = {
    "EMAIL": (
        "Gửi báo giá", "Re: Báo giá dịch vụ", "Thông tin sản phẩm mới", "Follow-up after meeting",
        "Xác nhận đơn hàng", "Hợp đồng dự thảo", "Newsletter tháng", "Invoice and payment terms",
    ),
    "CALL": (
        "Gọi tư vấn", "Gọi lại theo yêu cầu", "Discovery call", "Nhắc lịch thanh toán",
        "Khảo sát mức độ hài lòng", "Cold call",
    ),
    "MEETING": (
        "Họp demo sản phẩm", "Kick-off meeting", "Họp đàm phán hợp đồng", "Quarterly review",
    ),
    "NOTE": ("Ghi chú", "Khách hàng quan tâm gói cao cấp", "Internal note", "Cần gửi tài liệu"),
    "CHAT": ("Chat Zalo", "Tin nhắn Facebook", "Live chat trên website", "Hỏi về khuyến mãi"),
    "SMS": ("SMS khuyến mãi", "SMS nhắc lịch hẹn", "OTP xác nhận", "SMS cảm ơn"),
    "VISIT": ("Thăm khách hàng", "Ghé showroom", "Site visit", "Khảo sát tại văn phòng"),
    "FORM": ("Đăng ký nhận tư vấn", "Contact form", "Đăng ký dùng thử", "Đăng ký sự kiện"),
    "WEB": ("Xem trang bảng giá", "Visited pricing page", "Tải tài liệu", "Xem trang sản phẩm"),
}  # fmt: skip

INBOUND_SHARE = {
    "EMAIL": 0.45,
    "CALL": 0.35,
    "MEETING": 0.2,
    "NOTE": 0.0,
    "CHAT": 0.6,
    "SMS": 0.15,
    "VISIT": 0.3,
    "FORM": 1.0,
    "WEB": 1.0,
}

TASK_TITLES: tuple[str, ...] = (
    "Gọi lại cho {name}", "Gửi báo giá cho {name}", "Follow up {name}", "Hẹn lịch demo với {name}",
    "Chuẩn bị hợp đồng cho {name}", "Gửi tài liệu giới thiệu cho {name}",
    "Xác nhận thanh toán của {name}", "Send proposal to {name}", "Chúc mừng sinh nhật {name}",
    "Thu thập phản hồi từ {name}",
)  # fmt: skip

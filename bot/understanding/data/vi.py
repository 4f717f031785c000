"""Vietnamese: cues, phrases and common words for the understanding model.

Cues are written without tone marks: the model folds them away (and đ to d) before matching,
so "đặt lịch hẹn" and "dat lich hen" are the same. Single syllables are ambiguous without
their marks, so most cues are two syllables or more.
"""

from __future__ import annotations

from typing import Final

CUES: Final[dict[str, str]] = {
    "case_status": "ho so:3 | trang thai:3 | tinh trang:3 | kiem tra:1 | kiem tra ho so:3"
    " | tra cuu:3 | bien nhan:3 | so bien nhan:3 | bien lai:3 | don:1"
    " | duoc duyet:3 | da duyet:3 | chap thuan:3 | bi tu choi:3 | the xanh:3 | giay phep:2"
    " | ket qua:2 | the nao roi:2 | tien do:3 | case:2",
    "appointment": "lich hen:3 | dat lich:3 | dat hen:3 | cuoc hen:3 | hen:1 | doi lich:3"
    " | doi ngay hen:3 | huy lich hen:3 | lay dau van tay:3 | dau van tay:3 | van tay:3"
    " | sinh trac hoc:3 | phong van:3 | ngay hen:3 | gio hen:3 | van phong:1 | doi hen:3",
    "password_reset": "mat khau:3 | quen:2 | quen mat khau:3 | dat lai:2 | bi khoa:3"
    " | khoa tai khoan:3 | ma xac nhan:3 | ma xac minh:3 | ma:1 | khong nhan duoc:2"
    " | mat dien thoai:3 | dien thoai moi:3 | doi dien thoai:3 | ung dung xac thuc:3"
    " | ma du phong:3 | tao tai khoan:3 | tai khoan moi:3 | dang ky:3 | mo tai khoan:3",
    "link_account": "dang nhap:3 | tai khoan:1 | tai khoan cua toi:2 | lien ket:3"
    " | ket noi:2 | vao tai khoan:3 | truy cap:2 | login:3",
    "language": "ngon ngu:3 | tieng:1 | noi tieng:2 | doi ngon ngu:3 | dich:2 | thu tieng:2",
    "agent": "nói chuyện với người:3 | người thật:3 | nhân viên:3 | tổng đài viên:3"
    " | tư vấn viên:3 | gặp người:3 | đại diện:2 | chat trực tiếp:3",
    "help": "giup:2 | giup do:3 | tro giup:3 | huong dan:3 | lam duoc gi:3 | lam gi duoc:3"
    " | khong hieu:2 | cach dung:3 | cach su dung:3 | ho tro:2",
    "cancel": "huy:1 | huy bo:2 | dung lai:2 | dung:1 | thoat:2 | thoi:2 | khong can:2"
    " | khong cam on:3 | bo qua:2 | ket thuc:2 | khong muon nua:2",
    "greeting": "xin chao:3 | chao:2 | chao ban:3 | chao buoi sang:3 | chao buoi toi:3"
    " | cam on:2 | alo:2 | chao anh:3 | chao chi:3",
}

PHRASES: Final[dict[str, tuple[str, ...]]] = {
    "case_status": (
        "tôi muốn kiểm tra tình trạng hồ sơ",
        "hồ sơ của tôi đã được duyệt chưa",
        "tra cứu hồ sơ",
        "tôi có số biên nhận",
        "trạng thái đơn của tôi",
        "kiem tra ho so cua toi giup",
        "the xanh cua toi sao roi",
        "giấy phép lao động của tôi tới đâu rồi",
        "xem ket qua ho so",
    ),
    "appointment": (
        "tôi muốn đặt một lịch hẹn mới",
        "dat lich lay dau van tay",
        "đổi lịch hẹn sang ngày khác",
        "hủy lịch hẹn của tôi",
        "lịch hẹn phỏng vấn",
        "khi nao la lich hen cua toi",
        "đặt hẹn sinh trắc học",
        "toi can mot cuoc hen",
    ),
    "password_reset": (
        "tôi quên mật khẩu",
        "toi can dat lai mat khau",
        "tài khoản của tôi bị khóa",
        "tôi mất điện thoại không có mã",
        "khong nhan duoc ma xac nhan",
        "tôi muốn tạo tài khoản",
        "dang ky tai khoan moi",
        "đổi mật khẩu",
    ),
    "link_account": (
        "tôi muốn đăng nhập",
        "dang nhap vao tai khoan cua toi",
        "liên kết tài khoản uscis",
        "ket noi tai khoan",
        "truy cập tài khoản của tôi",
    ),
    "language": (
        "cho tôi đổi ngôn ngữ",
        "noi tieng viet duoc khong",
        "tôi không biết tiếng anh",
        "chuyển sang tiếng tây ban nha",
        "ngon ngu khac",
    ),
    "agent": (
        "tôi muốn nói chuyện với người thật",
        "cho tôi gặp nhân viên",
        "kết nối tôi với tổng đài viên",
        "tôi cần nói chuyện với nhân viên tư vấn",
    ),
    "help": (
        "giúp tôi",
        "toi can tro giup",
        "bạn có thể làm được gì",
        "cách sử dụng",
        "toi khong hieu",
    ),
    "cancel": (
        "hủy",
        "thôi bỏ qua",
        "dung lai di",
        "thoát",
        "không cần nữa",
    ),
    "greeting": (
        "chào bạn nhé",
        "xin chào mọi người",
        "chào anh",
        "cảm ơn bạn",
        "alo alo",
    ),
    "unknown": (
        "mấy giờ rồi",
        "kể chuyện cười đi",
        "tôi thích ăn bánh mì",
        "ngày mai có mưa không",
        "con chó của tôi bị ốm",
    ),
}

TOPICS: Final[dict[str, str]] = {
    "create_account": "tao tai khoan | tai khoan moi | dang ky | mo tai khoan | lap tai khoan",
    "lost_device": "mat dien thoai | dien thoai moi | doi dien thoai | bi mat dien thoai"
    " | hong dien thoai | ung dung xac thuc | mat may",
    "forgot_password": "quen mat khau | dat lai mat khau | doi mat khau | mat khau moi"
    " | khong nho mat khau | lay lai mat khau",
}

WORDS: Final = (
    "toi tôi cua của la là co có khong không duoc được muon muốn can cần cho voi với"
    " ban bạn minh mình em anh chi chị nay này roi rồi chua chưa gi gì nao nào the thế"
    " va và de để o ở mot một nhung những da đã dang đang se sẽ vao vào ra di đi lam làm"
    " xem biet biết nua nữa giup giúp oi ơi nhe nhé a ạ"
)

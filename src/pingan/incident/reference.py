"""The incident category code table (警情类别): eight top categories and their sub-categories.

Codes are stable; names may be edited. ``sync_categories`` upserts them on every upgrade.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from pingan.incident import repository
from pingan.incident.models import IncidentCategory

# (code, 中文, English, [(sub code, 中文, English), ...])
CATEGORIES: list[tuple[str, str, str, list[tuple[str, str, str]]]] = [
    ("10", "刑事警情", "Criminal", [
        ("1001", "盗窃", "Theft"),
        ("1002", "抢劫", "Robbery"),
        ("1003", "抢夺", "Snatching"),
        ("1004", "诈骗", "Fraud"),
        ("1005", "电信网络诈骗", "Telecom fraud"),
        ("1006", "故意伤害", "Assault causing injury"),
        ("1007", "杀人", "Homicide"),
        ("1008", "涉毒", "Drugs"),
        ("1009", "涉黄涉赌", "Prostitution / gambling"),
        ("1099", "其他刑事", "Other criminal"),
    ]),
    ("20", "治安警情", "Public order", [
        ("2001", "打架斗殴", "Fighting"),
        ("2002", "寻衅滋事", "Provocation / affray"),
        ("2003", "酗酒闹事", "Drunken disorder"),
        ("2004", "噪音扰民", "Noise nuisance"),
        ("2005", "非法聚集", "Unlawful gathering"),
        ("2099", "其他治安", "Other public order"),
    ]),
    ("30", "交通警情", "Traffic", [
        ("3001", "交通事故", "Traffic accident"),
        ("3002", "交通堵塞", "Congestion"),
        ("3003", "酒驾醉驾", "Drink driving"),
        ("3099", "其他交通", "Other traffic"),
    ]),
    ("40", "火灾警情", "Fire", [
        ("4001", "建筑火灾", "Building fire"),
        ("4002", "车辆火灾", "Vehicle fire"),
        ("4099", "其他火情", "Other fire"),
    ]),
    ("50", "群众求助", "Assistance", [
        ("5001", "走失寻人", "Missing person"),
        ("5002", "突发疾病", "Sudden illness"),
        ("5003", "开锁求助", "Locked out"),
        ("5004", "危难救助", "Rescue"),
        ("5099", "其他求助", "Other assistance"),
    ]),
    ("60", "纠纷警情", "Dispute", [
        ("6001", "家庭纠纷", "Family dispute"),
        ("6002", "邻里纠纷", "Neighbour dispute"),
        ("6003", "经济纠纷", "Economic dispute"),
        ("6004", "劳资纠纷", "Labour / wage dispute"),
        ("6099", "其他纠纷", "Other dispute"),
    ]),
    ("70", "举报投诉", "Report", [
        ("7001", "违法线索举报", "Tip-off"),
        ("7002", "投诉", "Complaint"),
        ("7099", "其他举报", "Other report"),
    ]),
    ("90", "其他警情", "Other", [
        ("9001", "咨询", "Enquiry"),
        ("9002", "无效报警", "Invalid call"),
        ("9099", "其他", "Other"),
    ]),
]


def sync_categories(*, db: Session) -> None:
    existing = {c.code: c for c in repository.list_categories_unscoped(db=db)}
    sort = 0
    for code, zh, en, subs in CATEGORIES:
        for c, name, name_en, parent in [(code, zh, en, None)] + [(s, n, e, code) for s, n, e in subs]:
            sort += 1
            row = existing.get(c)
            if row is None:
                db.add(IncidentCategory(code=c, name=name, name_en=name_en, parent_code=parent, sort=sort))
                db.flush()  # parents before children
            else:
                row.name, row.name_en, row.parent_code, row.sort = name, name_en, parent, sort
    db.flush()


def leaf_codes() -> list[str]:
    return [s for _, _, _, subs in CATEGORIES for s, _, _ in subs]

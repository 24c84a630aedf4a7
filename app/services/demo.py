"""Demo organisations and users (contract §2). Loaded only into an empty database, never in production."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import Committee, CommitteeScope, Organisation, User, UserRole
from app.services.auth import hash_password

PASSWORD = "demo-pass-2026"
CITY_HR = "丽水市人力资源和社会保障局"
HOSPITAL = "丽水市莲都区人民医院"
SELF_MANAGED_COMMITTEE = "丽水市莲都区人民医院卫生技术人员自主评聘委员会"
# The hospital's delegated authority (自主评聘): 卫技 中级 and 副高.
SELF_MANAGED_TITLES = ["主治医师", "主管护师", "主管药师", "主管技师", "副主任医师", "副主任护师", "副主任药师", "副主任技师"]

# name, kind, county, unit_type, self_managed, competent dept name
ORGS = [
    (CITY_HR, "hr_bureau", "市本级", "机关", False, None),
    ("莲都区人力资源和社会保障局", "hr_bureau", "莲都区", "机关", False, None),
    ("龙泉市人力资源和社会保障局", "hr_bureau", "龙泉市", "机关", False, None),
    ("丽水市教育局", "competent_dept", "市本级", "机关", False, None),
    ("莲都区教育局", "competent_dept", "莲都区", "机关", False, None),
    ("丽水市经济和信息化局", "competent_dept", "市本级", "机关", False, None),
    ("莲都区中小学教师中级专业技术职务任职资格评审委员会", "committee", "莲都区", None, False, None),
    ("丽水市汽车零部件工程技术人员中级专业技术职务任职资格评审委员会", "committee", "市本级", None, False, None),
    ("龙泉市汽车空调配件行业协会", "association", "龙泉市", "社会组织", False, None),
    ("丽水市莲都区示范中学", "employer", "莲都区", "事业单位", False, "莲都区教育局"),
    ("龙泉市安达汽车空调配件有限公司", "employer", "龙泉市", "企业", False, None),
    ("丽水市农林科学研究院", "employer", "市本级", "事业单位", False, None),
    ("丽水市莲都区云峰科技有限公司", "employer", "莲都区", "企业", False, None),
    ("丽水市卫生健康委员会", "competent_dept", "市本级", "机关", False, None),
    ("莲都区卫生健康局", "competent_dept", "莲都区", "机关", False, None),
    ("浙江省人力资源和社会保障厅", "hr_bureau", "省级", "机关", False, None),
    ("丽水市莲都区人民医院", "self_managed_unit", "莲都区", "事业单位", True, "莲都区卫生健康局"),
    (SELF_MANAGED_COMMITTEE, "committee", "莲都区", None, False, None),
]

# username, display name, role, organisation
USERS = [
    ("admin", "系统管理员", "system_admin", CITY_HR),
    ("owner", "流程管理员", "process_owner", CITY_HR),
    ("manager", "监督管理员", "manager", CITY_HR),
    ("city_hr", "市人社局专技处 王敏", "hr_staff", CITY_HR),
    ("liandu_hr", "莲都区人社局 李娜", "hr_staff", "莲都区人力资源和社会保障局"),
    ("longquan_hr", "龙泉市人社局 赵强", "hr_staff", "龙泉市人力资源和社会保障局"),
    ("city_edu", "市教育局 陈静", "competent_dept", "丽水市教育局"),
    ("liandu_edu", "莲都区教育局 周伟", "competent_dept", "莲都区教育局"),
    ("city_eit", "市经信局 吴军", "competent_dept", "丽水市经济和信息化局"),
    ("edu_office", "莲都区中小学教师中评委办公室", "committee_office",
     "莲都区中小学教师中级专业技术职务任职资格评审委员会"),
    ("auto_office", "汽车零部件中评委办公室", "committee_office",
     "丽水市汽车零部件工程技术人员中级专业技术职务任职资格评审委员会"),
    ("expert1", "评审专家 郑一", "expert", "莲都区中小学教师中级专业技术职务任职资格评审委员会"),
    ("expert2", "评审专家 钱二", "expert", "莲都区中小学教师中级专业技术职务任职资格评审委员会"),
    ("expert3", "评审专家 孙三", "expert", "莲都区中小学教师中级专业技术职务任职资格评审委员会"),
    ("school_hr", "示范中学人事 冯丽", "employer_hr", "丽水市莲都区示范中学"),
    ("auto_hr", "安达公司人事 蒋涛", "employer_hr", "龙泉市安达汽车空调配件有限公司"),
    ("institute_hr", "农林科学研究院人事 韩梅", "employer_hr", "丽水市农林科学研究院"),
    ("liandu_co_hr", "云峰科技人事 杨帆", "employer_hr", "丽水市莲都区云峰科技有限公司"),
    ("hospital_admin", "莲都区人民医院职改办", "self_managed_admin", "丽水市莲都区人民医院"),
    ("liandu_health", "莲都区卫生健康局 吴芳", "competent_dept", "莲都区卫生健康局"),
    ("city_health", "市卫生健康委 郑华", "competent_dept", "丽水市卫生健康委员会"),
    ("teacher1", "周晓岚", "applicant", "丽水市莲都区示范中学"),
    ("engineer1", "叶海波", "applicant", "龙泉市安达汽车空调配件有限公司"),
    ("grad_city", "林若溪", "applicant", "丽水市农林科学研究院"),
    ("grad_liandu", "何俊", "applicant", "丽水市莲都区云峰科技有限公司"),
    ("doctor1", "潘文静", "applicant", "丽水市莲都区人民医院"),
]


def load_demo_data() -> bool:
    """Returns False (and does nothing) when users already exist."""
    if current_app.config.get("APP_ENV") == "production":
        raise RuntimeError("生产环境不加载演示数据")
    if db.session.scalar(select(func.count(User.id))):
        return False
    orgs: dict[str, Organisation] = {}
    for name, kind, county, unit_type, self_managed, _dept in ORGS:
        # Reference data (the committee catalogue) may have created some of them already.
        org = db.session.scalar(select(Organisation).where(Organisation.name == name))
        if org is None:
            org = Organisation(name=name, kind=kind, county=county, unit_type=unit_type, self_managed=self_managed)
            db.session.add(org)
        orgs[name] = org
    db.session.flush()
    for name, *_rest, dept in ORGS:
        if dept:
            orgs[name].competent_dept_id = orgs[dept].id
    orgs["莲都区人力资源和社会保障局"].parent_id = orgs[CITY_HR].id
    orgs["龙泉市人力资源和社会保障局"].parent_id = orgs[CITY_HR].id
    orgs["莲都区卫生健康局"].parent_id = orgs["丽水市卫生健康委员会"].id
    password = hash_password(PASSWORD)
    for username, display, role, org_name in USERS:
        user = User(username=username, display_name=display, password_hash=password, org_id=orgs[org_name].id,
                    email=f"{username}@demo.lishui.invalid")
        user.roles.append(UserRole(role=role, org_id=orgs[org_name].id))
        db.session.add(user)
        if username == "hospital_admin":  # the unit's staff office also runs its committee's sessions
            user.roles.append(UserRole(role="committee_office", org_id=orgs[SELF_MANAGED_COMMITTEE].id))
    _self_managed_committee(orgs)
    db.session.commit()
    return True


def _self_managed_committee(orgs: dict[str, Organisation]) -> None:
    """The hospital's own committee (自主评聘委员会): only its staff, only its delegated titles."""
    committee = Committee(org_id=orgs[SELF_MANAGED_COMMITTEE].id, short_name="莲都区人民医院自主评聘委员会", level="高",
                          series="卫生技术", location="莲都区", office="莲都区人民医院职改办", members=15,
                          self_managed_org_id=orgs[HOSPITAL].id)
    for year in (2021, 2022):
        committee.scopes.append(CommitteeScope(
            plan_year=year, titles_evaluated=SELF_MANAGED_TITLES, titles_recommended=[], exclude_self_managed=False,
            exclusive=False, employers=[HOSPITAL], start_month=f"{year}-11", finish_month=f"{year + 1}-02",
            scope_text=f"{HOSPITAL}卫生技术人员（自主评聘：中级、副高级）"))
    db.session.add(committee)

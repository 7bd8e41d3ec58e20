"""Writes the sample registry and group rosters for 巴中市, deterministically.

Counties, towns and organisations are real; villages' names and codes are
plausible but made up; every person and phone number is fictional.

    .venv/bin/python samples/make_sample_registry.py
"""

from __future__ import annotations

import random
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ducha.groups import ROSTER
from ducha.registry import write_sheets_xlsx

SEED = 20150811  # the date of the notice
OUT_DIR = Path(__file__).resolve().parent
REGISTRY_FILE = "registry.xlsx"
ROSTER_FILES = {"2015-08": "groups_2015-08.xlsx", "2015-09": "groups_2015-09.xlsx"}

# County -> (statistical code prefix, towns). 经开区 has no code of its own; 511971 is made up.
COUNTIES: dict[str, tuple[str, list[str]]] = {
    "巴州区": (
        "511902",
        [
            "曾口镇",
            "梁永镇",
            "清江镇",
            "化成镇",
            "三江镇",
            "水宁寺镇",
            "鼎山镇",
            "大茅坪镇",
            "光辉镇",
            "枣林镇",
            "大和乡",
            "凤溪乡",
            "金碑乡",
            "天马山镇",
            "平梁乡",
            "关渡乡",
        ],
    ),
    "恩阳区": (
        "511903",
        [
            "恩阳镇",
            "柳林镇",
            "渔溪镇",
            "茶坝镇",
            "三河场镇",
            "下八庙镇",
            "上八庙镇",
            "玉山镇",
            "群乐镇",
            "花丛镇",
            "关公乡",
            "舞凤乡",
            "双胜乡",
            "义兴乡",
            "尹家乡",
            "九镇乡",
        ],
    ),
    "通江县": (
        "511921",
        [
            "诺江镇",
            "民胜镇",
            "火炬镇",
            "广纳镇",
            "铁佛镇",
            "麻石镇",
            "至诚镇",
            "洪口镇",
            "沙溪镇",
            "瓦室镇",
            "涪阳镇",
            "永安镇",
            "春在镇",
            "陈河乡",
            "空山乡",
            "烟溪乡",
            "文胜乡",
            "泥溪乡",
        ],
    ),
    "南江县": (
        "511922",
        [
            "南江镇",
            "长赤镇",
            "正直镇",
            "大河镇",
            "光雾山镇",
            "东榆镇",
            "下两镇",
            "赤溪镇",
            "沙河镇",
            "杨坝镇",
            "八庙镇",
            "双流镇",
            "高塔乡",
            "关坝乡",
            "流坝乡",
            "贵民乡",
            "朱公乡",
        ],
    ),
    "平昌县": (
        "511923",
        [
            "江口镇",
            "驷马镇",
            "白衣镇",
            "得胜镇",
            "土兴镇",
            "岳家镇",
            "西兴镇",
            "邱家镇",
            "佛楼镇",
            "镇龙镇",
            "元山镇",
            "云台镇",
            "涵水镇",
            "响滩镇",
            "龙岗镇",
            "笔山镇",
            "坦溪镇",
            "灵山乡",
        ],
    ),
    "巴中经济开发区": ("511971", ["兴文街道", "奇章街道"]),
}

# Villages helped by city units (98 in all, as the notice says) and by county units only.
CITY_VILLAGES = {"巴州区": 18, "恩阳区": 15, "通江县": 22, "南江县": 22, "平昌县": 19, "巴中经济开发区": 2}
COUNTY_VILLAGES = {"巴州区": 62, "恩阳区": 55, "通江县": 96, "南江县": 88, "平昌县": 84, "巴中经济开发区": 7}
CITY_VILLAGES_WITH_TWO_UNITS = 6  # 92 + 2 * 6 = 104 city units
CITY_VILLAGES_WITH_COUNTY_UNIT_TOO = 5
COUNTY_VILLAGES_WITH_TWO_UNITS = 25

CITY_UNITS = [
    "市委办公室",
    "市人大常委会办公室",
    "市政府办公室",
    "市政协办公室",
    "市纪委",
    "市委组织部",
    "市委宣传部",
    "市委统战部",
    "市委政法委",
    "市委政策研究室",
    "市委编办",
    "市直机关工委",
    "市委党校",
    "市委老干部局",
    "市总工会",
    "团市委",
    "市妇联",
    "市科协",
    "市文联",
    "市工商联",
    "市残联",
    "市红十字会",
    "市社科联",
    "市发展和改革委员会",
    "市经济和信息化委员会",
    "市教育局",
    "市科学技术和知识产权局",
    "市民族宗教事务局",
    "市公安局",
    "市民政局",
    "市司法局",
    "市财政局",
    "市人力资源和社会保障局",
    "市国土资源局",
    "市环境保护局",
    "市住房和城乡建设局",
    "市交通运输局",
    "市水务局",
    "市农业局",
    "市林业局",
    "市畜牧食品局",
    "市商务局",
    "市文化广播影视新闻出版局",
    "市卫生和计划生育委员会",
    "市审计局",
    "市国有资产监督管理委员会",
    "市地方税务局",
    "市工商行政管理局",
    "市质量技术监督局",
    "市安全生产监督管理局",
    "市统计局",
    "市食品药品监督管理局",
    "市旅游局",
    "市扶贫和移民工作局",
    "市城市管理行政执法局",
    "市规划管理局",
    "市体育局",
    "市粮食局",
    "市信访局",
    "市人民防空办公室",
    "市政府法制办公室",
    "市政务服务中心",
    "市投资促进局",
    "市供销合作社",
    "市农业机械管理局",
    "市中级人民法院",
    "市人民检察院",
    "市国家税务局",
    "市气象局",
    "市防震减灾局",
    "市烟草专卖局",
    "市档案局",
    "市地方志办公室",
    "市公路管理局",
    "市住房公积金管理中心",
    "市社会保险事业管理局",
    "市就业服务管理局",
    "市农业科学研究所",
    "市广播电视台",
    "巴中日报社",
    "巴中职业技术学院",
    "市中心医院",
    "市中医院",
    "市疾病预防控制中心",
    "市机关事务管理局",
    "市公共资源交易中心",
    "市邮政管理局",
    "人民银行巴中市中心支行",
    "工商银行巴中分行",
    "农业银行巴中分行",
    "中国银行巴中分行",
    "建设银行巴中分行",
    "农业发展银行巴中市分行",
    "邮政储蓄银行巴中市分行",
    "巴中银监分局",
    "人保财险巴中市分公司",
    "中国人寿巴中分公司",
    "中国移动巴中分公司",
    "中国电信巴中分公司",
    "中国联通巴中分公司",
    "国网四川巴中供电公司",
    "市交通投资集团",
    "市城市建设投资公司",
    "巴中中学",
]

# The official order of institutions (机构序列) in which notices list city units:
# the four leading offices and the discipline commission, the Party committee's
# departments, the court and procuratorate, the government's departments, the
# mass organisations, public institutions and city enterprises, and last the
# central and provincial units stationed in 巴中 (中央、省驻巴单位).
# CITY_UNITS keeps its own order, which the sample's random draw depends on.
CITY_UNITS_OFFICIAL_ORDER = [
    "市委办公室", "市人大常委会办公室", "市政府办公室", "市政协办公室", "市纪委",
    "市委组织部", "市委宣传部", "市委统战部", "市委政法委", "市委政策研究室", "市委编办", "市直机关工委",
    "市委党校", "市委老干部局", "市档案局", "市地方志办公室",
    "市中级人民法院", "市人民检察院",
    "市发展和改革委员会", "市经济和信息化委员会", "市教育局", "市科学技术和知识产权局", "市民族宗教事务局",
    "市公安局", "市民政局", "市司法局", "市财政局", "市人力资源和社会保障局", "市国土资源局", "市环境保护局",
    "市住房和城乡建设局", "市交通运输局", "市水务局", "市农业局", "市林业局", "市畜牧食品局", "市商务局",
    "市文化广播影视新闻出版局", "市卫生和计划生育委员会", "市审计局", "市国有资产监督管理委员会", "市地方税务局",
    "市工商行政管理局", "市质量技术监督局", "市安全生产监督管理局", "市统计局", "市食品药品监督管理局", "市旅游局",
    "市扶贫和移民工作局", "市城市管理行政执法局", "市规划管理局", "市体育局", "市粮食局", "市信访局",
    "市人民防空办公室", "市政府法制办公室", "市政务服务中心", "市投资促进局", "市供销合作社", "市农业机械管理局",
    "市防震减灾局", "市机关事务管理局", "市公共资源交易中心", "市公路管理局", "市住房公积金管理中心",
    "市社会保险事业管理局", "市就业服务管理局",
    "市总工会", "团市委", "市妇联", "市科协", "市文联", "市工商联", "市残联", "市红十字会", "市社科联",
    "市农业科学研究所", "市广播电视台", "巴中日报社", "巴中职业技术学院", "巴中中学", "市中心医院", "市中医院",
    "市疾病预防控制中心", "市交通投资集团", "市城市建设投资公司",
    "市国家税务局", "市气象局", "市烟草专卖局", "市邮政管理局", "人民银行巴中市中心支行", "巴中银监分局",
    "工商银行巴中分行", "农业银行巴中分行", "中国银行巴中分行", "建设银行巴中分行", "农业发展银行巴中市分行",
    "邮政储蓄银行巴中市分行", "人保财险巴中市分公司", "中国人寿巴中分公司", "中国移动巴中分公司",
    "中国电信巴中分公司", "中国联通巴中分公司", "国网四川巴中供电公司",
]
# Gaps of ten leave room for a unit added later between two others.
SORT_ORDER_STEP = 10

COUNTY_DEPARTMENTS = [
    "县委办公室",
    "县委组织部",
    "县委宣传部",
    "县委统战部",
    "县纪委",
    "县委政法委",
    "县发展和改革局",
    "县教育局",
    "县公安局",
    "县民政局",
    "县财政局",
    "县人力资源和社会保障局",
    "县国土资源局",
    "县住房和城乡建设局",
    "县交通运输局",
    "县水务局",
    "县农业局",
    "县林业局",
    "县畜牧食品局",
    "县商务局",
    "县文化广播影视新闻出版局",
    "县卫生和计划生育局",
    "县审计局",
    "县统计局",
    "县扶贫和移民工作局",
    "县国家税务局",
    "县地方税务局",
    "县工商质监局",
    "县食品药品监督管理局",
    "县旅游局",
    "县供销社",
    "县人民法院",
    "县人民检察院",
    "县总工会",
    "团县委",
    "县妇联",
    "县农村信用联社",
    "县人民医院",
    "县中医院",
    "县疾病预防控制中心",
]
ZONE_DEPARTMENTS = [
    "经开区党群工作部",
    "经开区经济发展局",
    "经开区财政局",
    "经开区规划建设局",
    "经开区社会事业局",
    "经开区国土分局",
]

VILLAGE_WORDS = [
    "白庙",
    "石梯",
    "青龙",
    "金山",
    "黄桷",
    "龙泉",
    "双河",
    "柏林",
    "松林",
    "观音",
    "天星",
    "红岩",
    "五星",
    "七里",
    "大坪",
    "高峰",
    "凉水",
    "桂花",
    "新场",
    "狮子",
    "马鞍",
    "清泉",
    "梨树",
    "凤凰",
    "光明",
    "玉皇",
    "三合",
    "永兴",
    "长岭",
    "茶园",
    "沙坝",
    "铁炉",
    "石龙",
    "水井",
    "碑垭",
    "杨柳",
    "枫香",
    "兴隆",
    "复兴",
    "团结",
    "安乐",
    "花园",
    "板桥",
    "岩口",
    "垭口",
    "庙坝",
    "鹿鸣",
    "檬子",
    "桃园",
    "竹林",
    "白鹤",
    "石门",
    "黄金",
    "银山",
    "柳湾",
    "麻柳",
    "响水",
    "龙洞",
    "田坝",
    "朝阳",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红梅鑫波斌宇浩凯健俊帆帅旭宁龙林欣慧建国永春海云峰志兴成德彬晓琳雪"


class _Names:
    """Fictional, unique person names."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def __call__(self) -> str:
        while True:
            given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2, 2))))
            name = self.rng.choice(SURNAMES) + given
            if name not in self.used:
                self.used.add(name)
                return name


def _phone(rng: random.Random, used: set[str]) -> str:
    # "0000" in the middle keeps them out of the way of real subscribers' usual ranges.
    while True:
        phone = f"1{rng.choice('3589')}{rng.randrange(10)}0000{rng.randrange(10000):04d}"
        if phone not in used:
            used.add(phone)
            return phone


def build_registry(rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    names = _Names(rng)
    phones: set[str] = set()
    villages: list[dict[str, Any]] = []
    assert sorted(CITY_UNITS_OFFICIAL_ORDER) == sorted(CITY_UNITS)
    units: list[dict[str, Any]] = [
        {"name": n, "level": "city", "county": None,
         "sort_order": (CITY_UNITS_OFFICIAL_ORDER.index(n) + 1) * SORT_ORDER_STEP}
        for n in CITY_UNITS
    ]
    links: list[dict[str, Any]] = []
    teams: list[dict[str, Any]] = []
    secretaries: list[dict[str, Any]] = []
    assert len(set(CITY_UNITS)) == sum(CITY_VILLAGES.values()) + CITY_VILLAGES_WITH_TWO_UNITS == 104
    city_pool = list(CITY_UNITS)
    rng.shuffle(city_pool)
    city_villages: list[dict[str, Any]] = []
    for county, (prefix, towns) in COUNTIES.items():
        departments = (
            ZONE_DEPARTMENTS
            if county == "巴中经济开发区"
            else [county + d[1:] if d.startswith("县") else county + d for d in COUNTY_DEPARTMENTS]
        )
        # 团县委 -> 团巴州区委 reads wrong; use the usual 共青团 form.
        departments = [d.replace(county + "团县委", "共青团" + county + "委") for d in departments]
        units.extend(
            {"name": d, "level": "county", "county": county, "sort_order": (k + 1) * SORT_ORDER_STEP}
            for k, d in enumerate(departments)
        )
        total = CITY_VILLAGES[county] + COUNTY_VILLAGES[county]
        used_names: set[tuple[str, str]] = set()
        serial_in_town: dict[str, int] = {}
        county_villages = []
        for i in range(total):
            town_index = rng.randrange(len(towns))
            town = towns[town_index]
            while True:
                name = rng.choice(VILLAGE_WORDS) + "村"
                if (town, name) not in used_names:
                    used_names.add((town, name))
                    break
            serial_in_town[town] = serial_in_town.get(town, 0) + 1
            code = f"{prefix}{100 + town_index + 1:03d}{200 + serial_in_town[town]:03d}"
            population = rng.randrange(380, 2600)
            villages.append(
                village := {
                    "county": county,
                    "town": town,
                    "name": name,
                    "code": code,
                    "population": population,
                    "poor_population": int(population * rng.uniform(0.08, 0.26)),
                    "income": rng.randrange(2100, 4300, 10),
                }
            )
            (city_villages if i < CITY_VILLAGES[county] else county_villages).append(village)
        for index, village in enumerate(county_villages):
            helpers = [departments[index % len(departments)]]
            if index < COUNTY_VILLAGES_WITH_TWO_UNITS * len(county_villages) // sum(COUNTY_VILLAGES.values()) + 1:
                helpers.append(departments[(index + 7) % len(departments)])
            village["_units"] = helpers
        for village in city_villages:
            village["_units"] = []
            village["_county_depts"] = departments
    for index, village in enumerate(city_villages):
        village["_units"].append(city_pool.pop())
        if index < CITY_VILLAGES_WITH_TWO_UNITS:
            village["_units"].append(city_pool.pop())
    assert not city_pool, "every city unit helps a village"
    for village in rng.sample(city_villages, CITY_VILLAGES_WITH_COUNTY_UNIT_TOO):
        village["_units"].append(rng.choice(village["_county_depts"]))
    for village in sorted(villages, key=lambda v: v["code"]):
        for unit in village.pop("_units"):
            links.append({"code": village["code"], "village_name": village["name"], "unit": unit})
        village.pop("_county_depts", None)
        teams.append({"code": village["code"], "size": rng.choice((3, 3, 4, 4, 5)), "leader": names()})
        unit_of_secretary = next(link["unit"] for link in links if link["code"] == village["code"])
        secretaries.append(
            {"code": village["code"], "name": names(), "unit": unit_of_secretary, "phone": _phone(rng, phones)}
        )
    villages.sort(key=lambda v: v["code"])
    return {"villages": villages, "units": units, "links": links, "teams": teams, "secretaries": secretaries}


GROUP_COUNTIES = ["巴州区", "恩阳区、经开区", "南江县", "通江县", "平昌县"]
LEADER_TITLES = ["市委目督办副主任", "市直工委副书记", "市委组织部部务委员", "市扶贫移民局副局长", "市委组织部副部长"]
MEMBER_TITLES = [
    "市直工委机关工会主席",
    "市委目督办正科级干部",
    "市委目督办督查科科长",
    "市委组织部组织一科副科级干部",
    "市直工委副调研员",
    "市扶贫移民局规划科干部",
]
LIAISON_TITLES = [
    "市扶贫移民局社扶科干部",
    "市委组织部组织一科副科长",
    "市直工委干部",
    "市扶贫移民局社扶科科长",
    "市扶贫移民局移民科干部",
]
GROUP_NUMERALS = "一二三四五"


def build_roster(rng: random.Random, changed_groups: int) -> list[dict[str, Any]]:
    names = _Names(rng)
    phones: set[str] = set()
    rows = []
    for no in range(5):
        label = f"第{GROUP_NUMERALS[no]}组"
        rows.append(
            {
                "group": label,
                "counties": GROUP_COUNTIES[no],
                "role": "组长",
                "name": names(),
                "title": LEADER_TITLES[no],
                "phone": None,
            }
        )
        rows.append(
            {
                "group": label,
                "counties": None,
                "role": "成员",
                "name": names(),
                "title": MEMBER_TITLES[(no + changed_groups) % len(MEMBER_TITLES)],
                "phone": None,
            }
        )
        rows.append(
            {
                "group": label,
                "counties": None,
                "role": "联络人",
                "name": names(),
                "title": LIAISON_TITLES[no],
                "phone": _phone(rng, phones),
            }
        )
    return rows


FIXED_ZIP_TIME = (2015, 8, 11, 0, 0, 0)
FIXED_DOC_TIME = "2015-08-11T00:00:00Z"


def _freeze(path: Path) -> None:
    """Rewrite the .xlsx with fixed time stamps, so a re-run gives the same bytes (no git churn)."""
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + FIXED_DOC_TIME.encode(), data)
            target.writestr(zipfile.ZipInfo(name, FIXED_ZIP_TIME), data, zipfile.ZIP_DEFLATED)


def main() -> None:
    rng = random.Random(SEED)
    registry = build_registry(rng)
    write_sheets_xlsx(OUT_DIR / REGISTRY_FILE, registry)
    _freeze(OUT_DIR / REGISTRY_FILE)
    for index, (round_id, file_name) in enumerate(ROSTER_FILES.items()):
        rows = build_roster(random.Random(f"{SEED}-{round_id}"), index)
        write_sheets_xlsx(
            OUT_DIR / file_name,
            {ROSTER.key: rows},
            (ROSTER,),
            f"{round_id} 专项督查组人员名单（用 ducha groups import 导入）",
        )
        _freeze(OUT_DIR / file_name)
    counts = {k: len(v) for k, v in registry.items()}
    print(f"已写出 {OUT_DIR / REGISTRY_FILE}：" + "，".join(f"{k} {n}" for k, n in counts.items()))


if __name__ == "__main__":
    main()

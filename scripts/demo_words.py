"""Word lists for the demo office: names, places, shops, brands and the
sentences customer managers write. Data only; :mod:`crmdocs.scripts.demo`
draws from them with a seeded ``random.Random``."""

from __future__ import annotations

# surname -> pinyin (ids are pinyin slugs such as cm-zhang-wei)
SURNAMES: tuple[tuple[str, str], ...] = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("高", "gao"),
    ("林", "lin"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"), ("彭", "peng"),
    ("曾", "zeng"), ("肖", "xiao"), ("田", "tian"), ("董", "dong"), ("袁", "yuan"), ("潘", "pan"),
    ("蒋", "jiang"), ("蔡", "cai"), ("余", "yu"), ("杜", "du"), ("叶", "ye"), ("程", "cheng"),
    ("苏", "su"), ("魏", "wei"), ("吕", "lv"), ("丁", "ding"), ("任", "ren"), ("沈", "shen"),
    ("姚", "yao"), ("卢", "lu"), ("钟", "zhong"), ("谭", "tan"), ("陆", "lu"), ("范", "fan"),
)

GIVEN: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀", "xiu"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂", "gui"), ("英", "ying"), ("华", "hua"),
    ("玲", "ling"), ("红", "hong"), ("建", "jian"), ("国", "guo"), ("文", "wen"), ("斌", "bin"),
    ("海", "hai"), ("燕", "yan"), ("辉", "hui"), ("鹏", "peng"), ("婷", "ting"), ("宇", "yu"),
    ("浩", "hao"), ("凯", "kai"), ("健", "jian"), ("俊", "jun"), ("帆", "fan"), ("雪", "xue"),
    ("琳", "lin"), ("晨", "chen"), ("欣", "xin"), ("亮", "liang"), ("成", "cheng"), ("志", "zhi"),
    ("春", "chun"), ("梅", "mei"), ("兰", "lan"), ("松", "song"), ("林", "lin"), ("峰", "feng"),
)

# (name, pinyin, urban?) -> towns and streets of a county
COUNTY = {"id": "yunxi", "name": "云溪县", "code": "511523"}
CITY = {"id": "jiangzhou", "name": "江州市"}
DEPARTMENTS: tuple[tuple[str, str, tuple[str, ...], float], ...] = (
    # id suffix, name, towns/streets, share of urban shops
    ("chengguan", "城关", ("城东街道", "城西街道", "城南街道", "城北街道", "滨江街道"), 0.92),
    ("dongxiang", "东乡", ("东乡镇", "桃源镇", "白沙镇", "石桥镇", "柳溪乡"), 0.22),
    ("xishan", "西山", ("西山镇", "青龙镇", "双河镇", "梅岭乡", "高坪镇"), 0.35),
)

# more place names for city-shaped offices: (pinyin, name)
PLACES: tuple[tuple[str, str], ...] = (
    ("chengdong", "城东"), ("chengxi", "城西"), ("chengnan", "城南"), ("chengbei", "城北"),
    ("kaifaqu", "开发区"), ("gaoxin", "高新"), ("hedong", "河东"), ("hexi", "河西"),
    ("jiangbei", "江北"), ("jiangnan", "江南"), ("xincheng", "新城"), ("laocheng", "老城"),
    ("dongguan", "东关"), ("xiguan", "西关"), ("nanguan", "南关"), ("qiaotou", "桥头"),
    ("shimen", "石门"), ("qingshan", "青山"), ("baima", "白马"), ("longquan", "龙泉"),
    ("fenghuang", "凤凰"), ("jinqiao", "金桥"), ("changling", "长岭"), ("liulin", "柳林"),
    ("shuangxi", "双溪"), ("meishan", "梅山"), ("taoyuan", "桃源"), ("qingshui", "清水"),
    ("huayuan", "花园"), ("yangliu", "杨柳"),
)
CITY_COUNTIES: tuple[tuple[str, str], ...] = (
    ("yunxi", "云溪县"), ("baisha", "白沙县"), ("lingshan", "灵山县"), ("shiqiao", "石桥区"), ("jinhe", "金河区"),
)
TOWN_SUFFIX_URBAN = ("街道",)
TOWN_SUFFIX_RURAL = ("镇", "乡")

ROADS = (
    "人民路", "解放路", "建设路", "中山路", "文化路", "新华路", "胜利路", "和平路", "幸福路",
    "光明路", "滨河路", "育才路", "东风路", "工业路", "车站路", "商贸街", "老街", "南环路",
    "北环路", "兴业路", "迎宾大道", "学府路", "振兴路", "朝阳路",
)
VILLAGES = (
    "李家村", "王家湾", "石板村", "新民村", "桃花村", "大河村", "柳树村", "高桥村", "龙井村",
    "黄泥村", "松林村", "马家坝", "杨柳村", "白果村", "清泉村", "中和村",
)

SHOP_PREFIX = (
    "好又多", "万家", "惠民", "鑫源", "福满多", "兴隆", "佳佳", "红星", "金叶", "顺心", "如意",
    "百佳", "家家乐", "利民", "平安", "和顺", "旺旺", "福源", "金鑫", "明珠", "天天", "众鑫",
    "宏达", "诚信", "友谊", "新华", "阳光", "春风", "吉祥", "润发", "聚福", "恒通", "永盛",
    "丰收", "祥和", "康乐", "便民", "邻里", "悦来", "隆源",
)
FORMAT_SUFFIX = {
    "grocery": ("食杂店", "副食店", "小卖部", "日杂店", "商店"),
    "convenience": ("便利店", "便民店", "24小时便利店"),
    "supermarket": ("超市", "购物超市", "生活超市", "平价超市"),
    "mall": ("商场", "购物中心", "百货"),
    "tobacco_liquor": ("烟酒商行", "烟酒店", "名烟名酒", "烟酒副食"),
    "entertainment": ("网吧", "KTV", "宾馆", "茶楼", "棋牌室", "大酒店"),
    "other": ("报刊亭", "加油站便利点", "水果店"),
}
SCOPE = {
    "grocery": "卷烟零售、预包装食品、日用百货",
    "convenience": "卷烟零售、预包装食品、饮料、日用品",
    "supermarket": "卷烟零售、食品、日用百货、生鲜",
    "mall": "卷烟零售、百货、食品、服装",
    "tobacco_liquor": "卷烟零售、酒类、茶叶、礼品",
    "entertainment": "卷烟零售、餐饮娱乐服务",
    "other": "卷烟零售、报刊、杂项",
}
# (format, weight) by network
FORMAT_MIX = {
    "urban": (("convenience", 30), ("grocery", 24), ("tobacco_liquor", 18), ("supermarket", 13),
              ("entertainment", 9), ("mall", 2), ("other", 4)),
    "rural": (("grocery", 55), ("convenience", 14), ("tobacco_liquor", 10), ("supermarket", 13),
              ("entertainment", 3), ("mall", 1), ("other", 4)),
}
AREA = {  # m², (low, high)
    "grocery": (12, 45), "convenience": (25, 90), "supermarket": (80, 320), "mall": (300, 1200),
    "tobacco_liquor": (18, 80), "entertainment": (40, 220), "other": (6, 30),
}
LOCATION_MIX = {
    "urban": (("residential", 38), ("commercial", 30), ("school", 10), ("transport", 10), ("market", 9), ("other", 3)),
    "rural": (("village", 55), ("market", 25), ("residential", 12), ("school", 5), ("other", 3)),
}

# id, name, price class, wholesale price per carton (yuan), key, scarce
BRANDS: tuple[tuple[str, str, int, float, bool, bool], ...] = (
    ("b-zhonghua", "中华（硬）", 1, 383.0, True, True),
    ("b-huanghelou", "黄鹤楼（软蓝）", 1, 190.8, False, True),
    ("b-furongwang", "芙蓉王（硬）", 1, 225.0, True, False),
    ("b-yuxi", "玉溪（软）", 1, 200.0, False, False),
    ("b-liqun", "利群（新版）", 2, 127.2, True, False),
    ("b-nanjing", "南京（炫赫门）", 2, 152.6, False, True),
    ("b-yunyan", "云烟（紫）", 2, 100.7, False, False),
    ("b-hongtashan", "红塔山（经典）", 3, 84.8, True, False),
    ("b-baisha", "白沙（精品）", 3, 84.8, False, False),
    ("b-shuangxi", "双喜（硬经典）", 3, 76.3, False, False),
    ("b-hongmei", "红梅（软黄）", 4, 53.0, False, False),
    ("b-daqianmen", "大前门（短支）", 5, 31.8, False, False),
)

BRAND_FEEDBACK = (
    "{b}动销较快，消费者反映口感稳定",
    "{b}近期到货偏少，客户希望增加投放",
    "{b}价格偏高，走货一般",
    "{b}新包装消费者认可度高",
    "{b}库存偏多，建议下周少订",
    "{b}回头客多，是店里的主销品牌",
    "{b}礼盒装节前询价的人多",
    "{b}年轻消费者买得多",
)
OPINIONS = (
    "希望货源投放更均衡",
    "建议送货时间提前到上午",
    "反映个别条盒到货有破损",
    "希望多组织零售户培训",
    "对电子结算很满意",
    "建议增加紧俏品牌投放量",
    "希望订货电话高峰期多开线路",
    "对档位调整结果没有意见",
    "希望客户经理多来店里指导陈列",
)
HELP = (
    "协助整理柜台陈列",
    "讲解明码标价要求",
    "帮助调整订货结构",
    "指导使用网上订货",
    "宣传卷烟真伪鉴别知识",
    "讲解许可证延续办理流程",
    "帮助核对上周到货",
)
FOLLOW_UP = (
    "下周回访断货情况",
    "跟进许可证延续办理",
    "把送货破损问题反馈给配送部门",
    "下次带新品宣传资料",
    "核实客户反映的价格问题",
)
REVIEW_COMMENTS = (
    "信息有价值，继续保持。",
    "拜访记录较简略，请补充品牌反馈。",
    "注意跟进断货问题。",
    "市场分析到位，建议整理后上报。",
    "计划执行率偏低，请说明原因。",
    "明码标价问题要盯紧整改。",
    "记录完整，好。",
    "客户意见要及时回复。",
)
PLAN_COMMENTS = ("", "", "", "同意。", "注意重点客户回访。", "同意，今天多关注新品铺货。")
TRENDS = ("平稳", "略有上升", "略有下降", "较上周明显好转", "受天气影响偏弱")
ADVICE = (
    "适当增加一类烟订量",
    "控制三类烟库存",
    "关注紧俏品牌的投放节奏",
    "提醒客户按需订货，避免压库",
    "加强新品的陈列推荐",
)
MARKET_VIEWS = (
    "消费以{p}元价位为主，中高端礼品需求{t}",
    "外来务工人员较多，{p}元价位走量，高端烟需求{t}",
    "周边新开小区入住率上升，便利店客流{t}",
    "赶集日客流集中，食杂店走货{t}",
    "学校周边管控严格，未发现向未成年人售烟",
)
INFO = {
    "price": (
        "{b}终端零售价 {p} 元/条，较上周{d}",
        "部分客户{b}加价销售，每条高出指导价约 {n} 元",
    ),
    "competitor": (
        "附近新开一家连锁便利店，对周边食杂店客流有影响",
        "邻近乡镇有商户低价甩货，{b}价格受冲击",
        "超市开展烟酒组合促销，带动{b}销量",
    ),
    "consumption": (
        "节前礼品烟需求上升，{b}询价较多",
        "细支烟和中支烟消费比例上升，{b}需求增加",
        "婚宴用烟集中，{b}整件订购增多",
    ),
    "policy": (
        "零售户关注许可证延续新规，希望简化手续",
        "客户询问电子支付手续费政策",
        "零售户对新的档位评定办法有疑问，已解释",
    ),
    "violation": (
        "发现流动摊贩兜售疑似私烟，已报专管员",
        "有客户反映邻店销售无标识卷烟，已转专管员核查",
        "发现一户未明码标价，已当场督促整改",
    ),
}
COMPLAINTS = {
    "general": (
        "送货员未按约定时间送货",
        "订货电话高峰期打不通",
        "到货条盒外包装有破损",
        "结算短信没有收到",
    ),
    "major": (
        "到货品规与订单不符，少了两条{b}",
        "对本月档位调整有异议，认为评定偏低",
        "连续三周申请的{b}未到货",
    ),
    "special": (
        "反映货源分配不公平，要求重新核定档位并书面答复",
        "店铺被盗损失卷烟，申请协助处理并暂缓订货",
        "因道路施工门店暂停营业，申请保留档位",
    ),
}
COMPLAINT_ACTIONS = (
    "电话联系客户了解情况",
    "上门核实，与配送部门沟通",
    "向市场经理汇报并提出处理意见",
    "与客户当面沟通处理结果",
)
COMPLAINT_RESULTS = (
    "已补送货品，客户表示满意",
    "已向客户解释政策，客户表示理解",
    "已调整送货时间，问题解决",
    "已重新核定，书面答复客户",
)
SURVEY_OPINIONS = ("", "", "希望保持现在的服务", "送货再准时一些", "多投放紧俏品牌", "希望多组织培训")
ADJUST_REASONS = (
    ("节日备货需求大，经营面积扩大，申请上调上限", 1.3),
    ("新开婚宴酒楼供货，临时上调", 1.5),
    ("库存积压，客户申请下调", 0.8),
    ("位于交通枢纽，客流大", 1.2),
)

# weekly market analyses (周市场分析) and monthly work summaries (月工作总结), seed 003
WEEK_SITUATION = (
    "{d}本周卷烟动销{t}，本周共拜访 {n} 户次。{b}走势较好，终端价格基本稳定。",
    "{d}本周整体销售{t}，{p} 元价位仍是主销价位；本周拜访 {n} 户次，未发现明显异常。",
    "本周{d}客流{t}，食杂店走货一般，便利店和超市好于上周；共拜访 {n} 户次。",
    "{d}本周市场平稳，{b}需求旺盛、货源偏紧，其余品规供需基本平衡；拜访 {n} 户次。",
)
WEEK_PROBLEMS = (
    "",
    "个别客户明码标价不全，整改后仍有反复。",
    "紧俏品牌货源偏紧，部分客户有加价销售的苗头。",
    "少数客户订货不稳定，存在压库现象。",
    "农村网点送货时间偏晚，客户有意见。",
)
WEEK_SUGGESTIONS = (
    "",
    "建议紧俏品牌按档位均衡投放，继续关注终端价格。",
    "建议加强新品陈列推荐，下周组织一次品牌推介。",
    "建议对明码标价不全的客户开展回访复查。",
    "建议与配送部门协调，农村线路提前出车。",
)
MONTH_WORK = (
    "本月按计划完成片区客户拜访，重点客户每周走访一次；协助客户做好陈列和明码标价，收集市场信息并按时提交日记。",
    "本月完成例行拜访和品牌推广，跟进客户投诉并回访；配合专管员开展市场检查，及时上报有价值的市场信息。",
    "本月围绕订单执行和终端价格开展工作，走访新办证客户，宣传许可证延续和档位评定政策。",
)
MONTH_PROBLEMS = (
    "",
    "部分客户订货随意，周转数波动较大。",
    "拜访记录有时偏简略，品牌反馈写得不够具体。",
    "个别日记提交偏晚。",
)
NEXT_MONTH = (
    "下月继续做好重点客户拜访，跟进紧俏品牌投放，提高计划执行率。",
    "下月重点做好节前备货引导，控制压库，加强市场信息收集。",
    "下月加强新品陈列推荐，完成满意度走访，督促明码标价整改。",
)
ANALYSIS_REVIEW_COMMENTS = (
    "分析较全面，继续保持。",
    "价格信息有价值，已整理上报。",
    "问题找得准，建议要更具体。",
    "请多结合销售数据分析。",
)
SUMMARY_REVIEW_COMMENTS = (
    "本月工作扎实，下月注意提高计划执行率。",
    "总结条理清楚，问题分析到位。",
    "数据翔实，下月计划要落到具体客户。",
    "日记提交要再及时一些。",
)

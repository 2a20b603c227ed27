"""制度与规则: the policy in words and tables, so everyone sees the rules that
compute their class, limits and appraisal. Every number comes from the
policy record (``records/policy.yaml``)."""

from __future__ import annotations

from crmdocs.schemas.retailer import FORMAT_ZH, LOCATION_ZH, Format, Location
from crmdocs.schemas.service import SEVERITY_ZH

from .pages import Page
from .render import Markup, block, esc, heading, table
from .sitedata import RULES, SiteData

VALUE_ZH = {"contribution": "贡献价值", "integrity": "诚信价值", "own": "自身价值", "development": "发展价值"}
INDICATOR_ZH = {
    "sales": "销量目标完成率", "key_brands": "重点品牌目标完成率", "plan_execution": "计划执行率",
    "coverage": "拜访周期覆盖率", "diary_on_time": "日记按时提交率", "satisfaction": "客户满意度",
    "information": "有价值市场信息",
}


def _p(text: str) -> str:
    return block(Markup("<p>") + esc(text) + Markup("</p>"))


def pages(data: SiteData) -> list[Page]:
    p = data.policy
    body = [heading(1, "制度与规则")]
    body.append(_p("本页由政策文件 records/policy.yaml 生成：改政策即改规则，站点和计算同时更新。以下数字都是本单位现行政策。"))

    # classes
    body.append(heading(2, "零售户分类", "classes"))
    rule = p.classes.rule
    if rule.mode == "composite":
        w = rule.weights
        body.append(_p(
            f"每月评定一次，当月 1 日起执行。综合得分 = {w.contribution:g}×贡献价值 + {w.integrity:g}×诚信价值 + "
            f"{w.own:g}×自身价值 + {w.development:g}×发展价值，每项 0–100 分。"
        ))
        body.append(_p(
            f"贡献价值：最近 {rule.weeks} 周订购额在同县区正常经营户中的百分位。"
            f"诚信价值：{rule.integrity.start:g} 分起，最近 {rule.integrity.months} 个月每次查实违规扣 {rule.integrity.per_violation:g} 分、"
            f"每次迟付扣 {rule.integrity.per_late_payment:g} 分，最低 0 分。"
            f"发展价值：最近 {rule.weeks} 周订购额比之前 {rule.weeks} 周，增长 {rule.development.worst * 100:g}% 及以下 0 分，"
            f"持平 {rule.development.flat_points:g} 分，增长 {rule.development.best * 100:g}% 及以上 100 分，中间按比例。"
            "自身价值：经营面积、业态、商圈、形象等级四项得分的平均（见下表）。"
        ))
        body.append(block(table(["类别", "综合得分不低于"], [[c.name, f"{c.min:g}"] for c in rule.classes], search=True)))
        own = rule.own
        body.append(block(table(["经营面积（平方米）不小于", "得分"], [[f"{b.min:g}", f"{b.points:g}"] for b in own.floor_area])))
        body.append(block(table(["业态", "得分"], [[FORMAT_ZH.get(Format(k), k) if k in Format._value2member_map_ else k, f"{v:g}"] for k, v in own.format.items()])))
        body.append(block(table(["商圈", "得分"], [[LOCATION_ZH.get(Location(k), k) if k in Location._value2member_map_ else k, f"{v:g}"] for k, v in own.location.items()])))
        body.append(block(table(["形象等级", "得分"], [[k, f"{v:g}"] for k, v in own.image.items()])))
    else:
        unit = "条" if rule.measure == "quantity" else "元"
        body.append(_p(f"按上月订购{'量' if rule.measure == 'quantity' else '额'}分档，每月评定。"))
        body.append(block(table(["类别", f"月订购不低于（{unit}）"], [[c.name, f"{c.min:g}"] for c in rule.classes], search=True)))
    key = "、".join(data.class_name(k) for k in p.classes.key_classes)
    body.append(_p(
        f"每次评定最多升降 {p.classes.max_step} 级（首次评定和上次统计期没有订购的不受此限）。{key}为重点客户，其诉求 {p.classes.key_response_hours} 小时内答复。"
        f"客户代表不超过零售户的 {p.classes.representative_share * 100:g}%。"
    ))

    # base class and tiers
    body.append(heading(2, "基础分类与货源档位", "tiers"))
    bc = p.base_class
    body.append(_p(
        f"基础分类 = 市场类型（城镇/乡村）× 业态 × 规模：同业态订购量和订购额份额前 {bc.large_share * 100:g}% 为大，"
        f"其后 {bc.medium_share * 100:g}% 为中，其余为小；业态“其他”应少于 {bc.other_format_cap * 100:g}%。"
    ))
    t = p.tiers
    body.append(_p(
        f"货源档位 1–{t.count} 档（{t.count} 档最高），每{'月' if t.period == 'month' else '季度'}评定：上期 {t.weeks} 周订购量、订购额、经营能力的百分位"
        f"按 {t.weights.quantity:g} / {t.weights.amount:g} / {t.weights.capability:g} 加权得分，"
        f"{'按名次分档' if t.mode == 'ranking' else '按分数段分档（见下表）'}。公布后本期锁定；人工调整须单独提交并经审核。"
    ))
    if t.mode == "bands":
        body.append(block(table(["档位", "得分不低于"], [[b.tier, f"{b.min:g}"] for b in t.bands])))
    body.append(block(table(["新户：网别", "面积不小于（平方米）", "起始档位"],
                            [["城网" if n.network == "urban" else "农网", f"{n.min_area:g}", n.tier] for n in t.new_retailer])))

    # limits
    body.append(heading(2, "周转数与订货上下限", "limits"))
    lim = p.limits
    body.append(_p(
        f"周转数 = 最近 {lim.turnover_weeks} 周的周平均订购量（没有订购的周按 0 计）。"
        f"下限 = 周转数 × 下限系数（向下取整），上限 = 周转数 × 上限系数 × 调整系数（向上取整）。"
        f"调整系数默认 {lim.coefficient.default:g}，范围 {lim.coefficient.min:g}–{lim.coefficient.max:g}，由市场经理批准并写明原因。"
        f"主销品牌：覆盖本户 {lim.main_brand_share * 100:g}% 订购量的最少品牌。"
        f"{'设下限' if lim.lower_limits else '不设下限'}；{'按品牌设限' if lim.brand_limits else '只限总量'}。"
    ))
    body.append(block(table(["类别", "下限系数", "上限系数", "无历史时默认周转数（条/周）", "拜访周期（天）"], [
        [c.name, f"{lim.factors[c.id].lower:g}", f"{lim.factors[c.id].upper:g}", f"{lim.default_turnover[c.id]:g}", p.visits.cycle_days[c.id]]
        for c in rule.classes
    ], search=True)))

    # abnormal
    body.append(heading(2, "异常订单", "abnormal"))
    ab = p.abnormal
    items = []
    items.append(f"超出上下限：{'启用' if ab.outside_limits.enabled else '关闭'}")
    items.append(f"单次突增：{'启用' if ab.spike.enabled else '关闭'}，超过前 {ab.spike.cycles} 个订货周期平均的 {ab.spike.ratio * 100:g}%，"
                 f"{ab.spike.min_quantity:g} 条以下订单和不足 {ab.spike.min_history} 个周期的零售户不查")
    items.append(f"月度突增：{'启用' if ab.month_jump.enabled else '关闭'}，月订购量超过上月的 {ab.month_jump.ratio * 100:g}%")
    body.append(block(Markup("<ul>") + Markup("").join(Markup("<li>") + esc(i) + Markup("</li>") for i in items) + Markup("</ul>")))

    # visits
    body.append(heading(2, "拜访计划与日记", "visits"))
    v = p.visits
    mins = "，".join(f"{'城网' if k == 'urban' else '农网' if k == 'rural' else k} {n} 户" for k, n in v.daily_min.items())
    body.append(_p(
        f"每个工作日提交拜访计划和日记。计划只列本人辖区的零售户，不重复，最多 {v.plan_max} 户；每日最少拜访（{mins}）低于时提醒。"
        f"计划在当天 {v.plan_deadline.time} 前提交{'' if v.plan_deadline.days_after == 0 else f'（之后第 {v.plan_deadline.days_after} 个工作日）'}；"
        f"日记在之后第 {v.diary_deadline.days_after} 个工作日 {v.diary_deadline.time} 前提交；市场经理在 {v.review_working_days} 个工作日内批阅。"
        "计划执行率 = 日记显示已完成的计划拜访 ÷ 计划拜访。拜访周期见上表。"
    ))

    # complaints
    body.append(heading(2, "客户投诉", "complaints"))
    c = p.complaints
    body.append(block(table(["性质", "处理时限（工作日）"], [[SEVERITY_ZH.get(k, k), n] for k, n in c.working_days.items()], search=True)))
    body.append(_p(
        f"{'、'.join(SEVERITY_ZH.get(k, k) for k in c.needs_approver)}投诉须写明批准人，否则按{SEVERITY_ZH.get(c.fallback, c.fallback)}投诉计时。超期的投诉标红，并在考核中扣分。"
    ))

    # appraisal
    body.append(heading(2, "客户经理考核（百分制）", "appraisal"))
    a = p.appraisal
    body.append(block(table(["指标", "满分", "得 0 分的完成率", "得满分的完成率"], [
        [INDICATOR_ZH.get(k, k), f"{i.points:g}", f"{i.floor * 100:g}%", f"{i.full * 100:g}%"] for k, i in a.indicators.items()
    ], search=True)))
    body.append(_p(
        f"两者之间按比例得分。有价值市场信息每月目标 {a.information_target} 条；每件超期投诉扣 {a.complaint_deduction:g} 分；总分 0–100。"
        "按月、季度、年度考核。"
    ))

    # grades
    body.append(heading(2, "客户经理等级", "grades"))
    g = p.grades
    body.append(block(table(["等级（从低到高）", "编号"], [[s.name, s.id] for s in g.ladder], search=True)))
    r = g.rules
    body.append(_p(
        f"连续 {r.promote_quarters} 个季度考核不低于 {r.promote_score:g} 分：建议晋升一级；某季度低于 {r.demote_score:g} 分：建议降一级；"
        f"连续 {r.eliminate_quarters} 个季度低于 {r.eliminate_score:g} 分：进入淘汰审查；见习 {r.probation_months} 个月、月平均不低于 "
        f"{r.probation_average:g} 分：建议转正。系统只提出建议，由负责人提交人员档案的变更后生效。"
    ))

    # surveys and privacy
    body.append(heading(2, "走访客户报告单评分", "surveys"))
    sc = p.survey_scores
    body.append(block(table(["产品质量", "分"], [[k, f"{v:g}"] for k, v in sc.quality.items()])))
    body.append(block(table(["服务", "分"], [[k, f"{v:g}"] for k, v in sc.service.items()])))
    body.append(block(table(["品牌知名度", "分"], [[k, f"{v:g}"] for k, v in sc.brand_awareness.items()])))
    body.append(heading(2, "个人信息", "privacy"))
    body.append(_p(
        "零售户负责人的电话、生日、身份证号和关爱群体属于个人信息，只在内部站点显示，公开站点一律隐藏"
        f"{'；负责人姓名在公开站点也隐藏' if p.privacy.mask_owner_names else ''}。"
    ))
    return [Page(RULES, "制度与规则", body, section="rules", order=0)]

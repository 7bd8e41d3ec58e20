#!/usr/bin/env bash
# The demo: a fresh workspace, the sample registry, one planned round.
# One step per line; later stages append their own steps at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

DUCHA=".venv/bin/ducha"
WS="demo-output/ducha-data"
ROUND="2015-08"
# Announced before the draw, e.g. the day's lottery numbers; fixed here so the demo repeats.
SEED="2015-08-14 福彩3D 第2015219期 开奖号 5 8 3"
step() { echo; echo "== $* =="; }

rm -rf "$WS"
mkdir -p demo-output

step "创建工作区";                 $DUCHA --workspace "$WS" init
step "导入示例台账";               $DUCHA --workspace "$WS" registry import samples/registry.xlsx
step "导入 ${ROUND} 督查组名单";   $DUCHA --workspace "$WS" groups import samples/groups_${ROUND}.xlsx --round "$ROUND"
step "本月工作日";                 $DUCHA --workspace "$WS" calendar "$ROUND"
step "安排 ${ROUND} 轮督查并摇号"; $DUCHA --workspace "$WS" round plan "$ROUND" --seed "$SEED" > /dev/null
step "查看 ${ROUND} 轮安排";       COLUMNS=120 $DUCHA --workspace "$WS" round show "$ROUND"
step "复核摇号";                   $DUCHA --workspace "$WS" lottery verify "$ROUND"
step "打印摇号记录";               $DUCHA --workspace "$WS" lottery record "$ROUND"
# Attendance (issue 18): the secretaries' days in the village, printed on the sheets and checked against 2/3.
step "导入 ${ROUND} 第一书记考勤";  $DUCHA --workspace "$WS" attendance import samples/attendance_${ROUND}.xlsx --round "$ROUND"
step "核对 2/3 驻村天数";          COLUMNS=120 $DUCHA --workspace "$WS" attendance check "$ROUND"
# Counties' self-inspection reports (issue 18): due by the 5th of next month; 南江县's arrives late.
step "登记各县自查报告";            $DUCHA --workspace "$WS" counties receive "$ROUND" 巴州区 samples/county_reports/巴州区_2015-08_自查报告.txt --date 2015-09-04
                                    $DUCHA --workspace "$WS" counties receive "$ROUND" 南江县 samples/county_reports/南江县_2015-08_自查报告.txt --date 2015-09-07
step "各县自查报告报送情况";        $DUCHA --workspace "$WS" counties status "$ROUND" --as-of 2015-09-08
# Record sheets (issue 3): one .docx per village, one print-ready PDF per group.
step "印制 ${ROUND} 轮督查记实表";   $DUCHA --workspace "$WS" sheets "$ROUND"; ls "$WS/sheets/$ROUND"
# Awareness surveys (issue 18): one page per village, carried with the record sheets.
step "印制 ${ROUND} 轮知晓率调查表"; $DUCHA --workspace "$WS" surveys "$ROUND"
# Scanner (issue 4): simulate returned sheets, read them, list what needs review.
[ -n "$(ls "$WS"/sheets/"$ROUND"/*.pdf 2>/dev/null)" ] || $DUCHA --workspace "$WS" sheets "$ROUND" --group 1 > /dev/null
step "模拟交回的纪实表扫描件";     $DUCHA --workspace "$WS" simulate "$ROUND" --out demo-output/returned --seed 1
step "读取扫描件";                 COLUMNS=160 $DUCHA --workspace "$WS" scan $(ls demo-output/returned/*.pdf demo-output/returned/*.tif 2>/dev/null) --round "$ROUND"
step "知晓率（调查表）";            COLUMNS=160 $DUCHA --workspace "$WS" awareness "$ROUND"
step "待复核项目";                 COLUMNS=200 $DUCHA --workspace "$WS" review --round "$ROUND" --limit 20
# Notification (issue 5): the red-header notice; a draft while reviews are open.
step "生成 ${ROUND} 督查情况通报";  $DUCHA --workspace "$WS" notice "$ROUND" --number 126 --date 2015-09-08 --draft --json | .venv/bin/python -c 'import json, sys; print("通报 PDF：" + json.load(sys.stdin)["pdf"])'

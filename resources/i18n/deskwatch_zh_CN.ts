<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AlertCentre</name>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="58"/>
        <source>Level</source>
        <extracomment>How far back the &quot;acknowledged&quot; group reaches into closed alerts.</extracomment>
        <translation>级别</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="59"/>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="60"/>
        <source>Indicator</source>
        <translation>指标</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="61"/>
        <source>Value</source>
        <translation>数值</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="62"/>
        <source>Since</source>
        <translation>开始时间</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="63"/>
        <source>Duration</source>
        <translation>持续时间</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="64"/>
        <source>Details</source>
        <translation>详情</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="87"/>
        <source>Note for the acknowledgement (optional)</source>
        <translation>确认备注(可选)</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="88"/>
        <source>Acknowledge</source>
        <translation>确认</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="90"/>
        <source>Acknowledge all</source>
        <translation>全部确认</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="92"/>
        <source>Report to IT…</source>
        <translation>报告信息技术部门…</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="94"/>
        <source>Copy a fault report to the clipboard, save it, and optionally e-mail it to IT</source>
        <translation>将故障报告复制到剪贴板并保存,可选择通过邮件发送给信息技术部门</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="97"/>
        <source>Note:</source>
        <translation>备注:</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="153"/>
        <source>Active</source>
        <translation>当前告警</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="154"/>
        <source>Cleared, not yet acknowledged</source>
        <translation>已恢复,尚未确认</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="155"/>
        <source>Acknowledged</source>
        <translation>已确认</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="184"/>
        <source>acknowledged {0} by {1}</source>
        <translation>{1} 于 {0} 确认</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="190"/>
        <source>raised {0} times, last {1}</source>
        <translation>共出现 {0} 次,最近一次 {1}</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="193"/>
        <source>cleared {0}</source>
        <translation>{0} 恢复</translation>
    </message>
</context>
<context>
    <name>Announcer</name>
    <message>
        <location filename="../../app/ui/tray.py" line="137"/>
        <source>Still unacknowledged — {0}</source>
        <translation>仍未确认 — {0}</translation>
    </message>
</context>
<context>
    <name>BreakWindow</name>
    <message>
        <location filename="../../app/ui/breaks.py" line="267"/>
        <source>Time for a {kind}</source>
        <translation>现在是{kind}时间</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks.py" line="276"/>
        <source>Postpone {minutes:g} min ({left} left)</source>
        <translation>推迟 {minutes:g} 分钟(剩 {left} 次)</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks.py" line="279"/>
        <source>Skip</source>
        <translation>跳过</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks.py" line="281"/>
        <source>&amp;Back to work: phone call</source>
        <translation>接听电话,回到工作(&amp;B)</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks.py" line="283"/>
        <source>Strict mode: this break cannot be skipped. A call ends it at once.</source>
        <translation>严格模式:本次休息不可跳过。来电时会立即结束。</translation>
    </message>
</context>
<context>
    <name>BreaksCard</name>
    <message>
        <location filename="../../app/ui/breaks.py" line="390"/>
        <source>Next: {kind} in {minutes} min</source>
        <translation>下一次:{minutes} 分钟后{kind}</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks.py" line="394"/>
        <source>No breaks scheduled</source>
        <translation>未安排休息</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks.py" line="396"/>
        <source>Now: {state}</source>
        <translation>当前:{state}</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks.py" line="398"/>
        <source>Activity source: {source}</source>
        <translation>活动检测来源:{source}</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks.py" line="401"/>
        <source>Take a break now</source>
        <translation>立即休息</translation>
    </message>
</context>
<context>
    <name>DeskwatchApp</name>
    <message>
        <location filename="../../app/ui/main.py" line="145"/>
        <source>Open status panel</source>
        <extracomment>Optional features built by other modules; each has ``install(app: DeskwatchApp) -&gt; None``. How often and how many times to look for a tray that was missing at start-up (2 min). The UI language changed (``zh_CN``/``en``); features retranslate their widgets. New settings are in force (the new :class:`Config`).</extracomment>
        <translation>打开状态面板</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="146"/>
        <source>Alert centre</source>
        <translation>告警中心</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="147"/>
        <source>Acknowledge all alerts</source>
        <translation>确认全部告警</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="148"/>
        <source>Take a break now</source>
        <translation>立即休息</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="149"/>
        <source>Start-of-shift check…</source>
        <translation>班前检查…</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="150"/>
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="151"/>
        <source>Quit Deskwatch</source>
        <translation>退出 Deskwatch</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="155"/>
        <source>Pause break reminders</source>
        <translation>暂停休息提醒</translation>
    </message>
    <message numerus="yes">
        <location filename="../../app/ui/main.py" line="157"/>
        <source>For %n minute(s)</source>
        <translation>
            <numerusform>%n 分钟</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="222"/>
        <source>No system tray was found, so Deskwatch runs in this window. Closing it quits Deskwatch; minimise it instead.</source>
        <translation>未找到系统托盘,Deskwatch 在此窗口中运行。关闭窗口将退出 Deskwatch,请改为最小化。</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="296"/>
        <location filename="../../app/ui/main.py" line="317"/>
        <source>Report to IT</source>
        <translation>报告信息技术部门</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="297"/>
        <source>The fault report is on the clipboard and saved as:
{0}</source>
        <translation>故障报告已复制到剪贴板,并保存为:
{0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="302"/>
        <source>Open e-mail to {0}</source>
        <translation>写邮件给 {0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="318"/>
        <source>The fault report could not be saved: {0}</source>
        <translation>无法保存故障报告:{0}</translation>
    </message>
</context>
<context>
    <name>DetailView</name>
    <message>
        <location filename="../../app/ui/panel.py" line="271"/>
        <source>← All devices</source>
        <extracomment>Longest slice of GUI-thread time spent applying state changes per event-loop pass. Chart ranges offered in the detail view: key → seconds. Most points a chart draws; longer ranges are merged into this many buckets.</extracomment>
        <translation>← 全部设备</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel.py" line="282"/>
        <source>Indicator:</source>
        <translation>指标:</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel.py" line="291"/>
        <source>Hour</source>
        <translation>1 小时</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel.py" line="292"/>
        <source>Shift (8 h)</source>
        <translation>一个班次(8 小时)</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel.py" line="293"/>
        <source>Day</source>
        <translation>1 天</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel.py" line="294"/>
        <source>Week</source>
        <translation>1 周</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel.py" line="344"/>
        <source>No data in this range yet</source>
        <translation>此时间段内暂无数据</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel.py" line="347"/>
        <source>No numeric indicator</source>
        <translation>没有数值型指标</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel.py" line="371"/>
        <source>Minimum {0}   Average {1}   Maximum {2}</source>
        <translation>最小 {0}   平均 {1}   最大 {2}</translation>
    </message>
</context>
<context>
    <name>PreBreakNotice</name>
    <message>
        <location filename="../../app/ui/breaks.py" line="149"/>
        <source>{kind} in {seconds} s</source>
        <translation>{seconds} 秒后{kind}</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks.py" line="150"/>
        <source>Finish what you are typing; the break starts by itself.</source>
        <translation>请完成手头的输入,休息将自动开始。</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks.py" line="152"/>
        <source>Postpone {minutes:g} min ({left} left)</source>
        <translation>推迟 {minutes:g} 分钟(剩 {left} 次)</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks.py" line="155"/>
        <source>No postpones left</source>
        <translation>已无推迟次数</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks.py" line="158"/>
        <source>Skip</source>
        <translation>跳过</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks.py" line="160"/>
        <source>Start now</source>
        <translation>立即开始</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks.py" line="161"/>
        <source>&amp;Back to work: phone call</source>
        <translation>接听电话,回到工作(&amp;B)</translation>
    </message>
</context>
<context>
    <name>QuietNotice</name>
    <message>
        <location filename="../../app/ui/breaks.py" line="187"/>
        <source>{kind} overdue</source>
        <translation>{kind}已超时</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks.py" line="188"/>
        <source>Held for your call for {minutes} min. Take it when the call ends.</source>
        <translation>因通话已推迟 {minutes} 分钟。请在通话结束后休息。</translation>
    </message>
</context>
<context>
    <name>ReportDialog</name>
    <message>
        <location filename="../../app/ui/selftest.py" line="205"/>
        <source>Reports</source>
        <translation>报表</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="214"/>
        <source>From</source>
        <translation>从</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="215"/>
        <source>To</source>
        <translation>到</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="217"/>
        <source>Per day</source>
        <translation>按天</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="218"/>
        <source>Per shift</source>
        <translation>按班次</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="219"/>
        <source>Columns</source>
        <translation>列</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="223"/>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="227"/>
        <source>Save in</source>
        <translation>保存到</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="228"/>
        <source>Open the report when it is ready</source>
        <translation>生成后打开报表</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="238"/>
        <source>Create report</source>
        <translation>生成报表</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="246"/>
        <source>Save reports in</source>
        <translation>报表保存位置</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="260"/>
        <source>Creating the report…</source>
        <translation>正在生成报表…</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="276"/>
        <source>The report could not be created: %1</source>
        <translation>无法生成报表:%1</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="285"/>
        <source>Saved:</source>
        <translation>已保存:</translation>
    </message>
</context>
<context>
    <name>SelfTestDialog</name>
    <message>
        <location filename="../../app/ui/selftest.py" line="112"/>
        <source>Start-of-shift check</source>
        <translation>班前检查</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="115"/>
        <source>Check that every device works before you start taking calls.</source>
        <translation>开始接听电话前,检查各设备是否正常。</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="126"/>
        <source>Print a test page</source>
        <translation>打印测试页</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="130"/>
        <source>Run check</source>
        <translation>开始检查</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="133"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="151"/>
        <source>Checking the devices…</source>
        <translation>正在检查设备…</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="169"/>
        <source>The check could not run: %1</source>
        <translation>检查无法运行:%1</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="182"/>
        <source>All devices are ready (%1 passed, %2 skipped).</source>
        <translation>所有设备就绪(%1 项通过,%2 项跳过)。</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="184"/>
        <source>%3 check(s) failed: see what to do below (%1 passed, %2 skipped).</source>
        <translation>%3 项检查未通过:请按下方提示处理(%1 项通过,%2 项跳过)。</translation>
    </message>
</context>
<context>
    <name>SelfTestFeature</name>
    <message>
        <location filename="../../app/ui/selftest.py" line="319"/>
        <source>Start-of-shift check…</source>
        <translation>班前检查…</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="325"/>
        <location filename="../../app/ui/selftest.py" line="334"/>
        <source>Reports…</source>
        <translation>报表…</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="379"/>
        <source>Start-of-shift check</source>
        <translation>班前检查</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="383"/>
        <source>Before taking calls: check now that the phone, headset, computer, recorder and printer work?</source>
        <translation>接听电话前:现在检查电话、耳机、电脑、录音设备和打印机是否正常吗?</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="388"/>
        <source>Check now</source>
        <translation>立即检查</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="390"/>
        <source>Later</source>
        <translation>稍后</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="171"/>
        <source>Deskwatch settings</source>
        <translation>Deskwatch 设置</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="194"/>
        <source>OK</source>
        <translation>确定</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="195"/>
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="196"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="206"/>
        <source>No user configuration file: settings cannot be saved.</source>
        <translation>没有用户配置文件:无法保存设置。</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="234"/>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="237"/>
        <source>default</source>
        <translation>默认</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="242"/>
        <source>Edit these entries in {0}</source>
        <translation>请在 {0} 中编辑这些条目</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="252"/>
        <source>General</source>
        <translation>常规</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="253"/>
        <source>Alerts</source>
        <translation>告警</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="254"/>
        <source>History</source>
        <translation>历史记录</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="255"/>
        <source>Break reminders</source>
        <translation>休息提醒</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="256"/>
        <source>Start-of-shift check</source>
        <translation>班前检查</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="257"/>
        <source>Reports</source>
        <translation>报表</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="258"/>
        <source>Prometheus metrics</source>
        <translation>Prometheus 指标</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="267"/>
        <source>Start Deskwatch when I log in</source>
        <translation>登录时自动启动 Deskwatch</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="276"/>
        <source>Monitoring</source>
        <translation>监测</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="285"/>
        <location filename="../../app/ui/settings_dialog.py" line="416"/>
        <location filename="../../app/ui/settings_dialog.py" line="420"/>
        <source>Thresholds: {0}</source>
        <translation>阈值:{0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="307"/>
        <source>{0}: allowed is {1}</source>
        <translation>{0}:允许的值为 {1}</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="362"/>
        <source>Cannot change start at login: {0}</source>
        <translation>无法更改登录时自动启动:{0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="373"/>
        <source>Cannot write {0}: {1}</source>
        <translation>无法写入 {0}:{1}</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="386"/>
        <source>one of {0}</source>
        <translation>以下之一:{0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="388"/>
        <source>names separated by commas</source>
        <translation>以逗号分隔的名称</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="391"/>
        <source>a whole number</source>
        <translation>整数</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="391"/>
        <source>a number</source>
        <translation>数</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="394"/>
        <source>{0} from {1} to {2}</source>
        <translation>{1} 到 {2} 之间的{0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="396"/>
        <source>{0} of at least {1}</source>
        <translation>不小于 {1} 的{0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="398"/>
        <source>{0} of at most {1}</source>
        <translation>不大于 {1} 的{0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="404"/>
        <source>the critical level must be beyond the warning level</source>
        <translation>严重值必须比警告值更偏离正常范围</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="406"/>
        <source>a clear level must be on the normal side of its limit</source>
        <translation>解除值必须位于对应阈值的正常一侧</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="421"/>
        <source>{0}: {1}</source>
        <translation>{0}:{1}</translation>
    </message>
</context>
<context>
    <name>StatusPanel</name>
    <message>
        <location filename="../../app/ui/panel.py" line="421"/>
        <source>Deskwatch — workstation status</source>
        <translation>Deskwatch — 工位状态</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel.py" line="430"/>
        <source>Acknowledge all</source>
        <translation>全部确认</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel.py" line="432"/>
        <source>Start-of-shift check</source>
        <translation>班前检查</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel.py" line="434"/>
        <source>Reports</source>
        <translation>报表</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel.py" line="436"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel.py" line="477"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel.py" line="479"/>
        <location filename="../../app/ui/panel.py" line="605"/>
        <source>Alerts</source>
        <translation>告警</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel.py" line="531"/>
        <source>Configuration problems (defaults are used for these keys):</source>
        <translation>配置有误(以下各项使用默认值):</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel.py" line="593"/>
        <source>Starting — waiting for the first readings…</source>
        <translation>正在启动 — 等待首次读数…</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel.py" line="595"/>
        <source>All equipment normal</source>
        <translation>所有设备正常</translation>
    </message>
    <message numerus="yes">
        <location filename="../../app/ui/panel.py" line="597"/>
        <source>%n problem(s) need attention</source>
        <translation>
            <numerusform>%n 项异常需要处理</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>WeekChart</name>
    <message>
        <location filename="../../app/ui/breaks.py" line="335"/>
        <source>Screen work per day (h) and breaks taken</source>
        <translation>每日屏幕工作(小时)与休息次数</translation>
    </message>
</context>
</TS>

<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AlertCentre</name>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="57"/>
        <source>Level</source>
        <extracomment>How far back the &quot;acknowledged&quot; group reaches into closed alerts.</extracomment>
        <translation>级别</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="58"/>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="59"/>
        <source>Indicator</source>
        <translation>指标</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="60"/>
        <source>Value</source>
        <translation>数值</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="61"/>
        <source>Since</source>
        <translation>开始时间</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="62"/>
        <source>Duration</source>
        <translation>持续时间</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="63"/>
        <source>Details</source>
        <translation>详情</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="75"/>
        <source>Alerts</source>
        <translation>告警列表</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="76"/>
        <source>Arrow keys choose an alert; Enter acknowledges it, Ctrl+R reports it to IT</source>
        <translation>方向键选择告警;回车确认,Ctrl+R 报告信息技术部门</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="99"/>
        <location filename="../../app/ui/alerts_view.py" line="100"/>
        <source>Note for the acknowledgement (optional)</source>
        <translation>确认备注(可选)</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="106"/>
        <source>&amp;Acknowledge</source>
        <translation>确认(&amp;A)</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="107"/>
        <source>Acknowledge the selected alerts, with the note</source>
        <translation>确认所选告警,并附上备注</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="113"/>
        <source>Acknowledge a&amp;ll</source>
        <translation>全部确认(&amp;L)</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="114"/>
        <source>Acknowledge every alert that needs attention, with the note</source>
        <translation>确认所有需要处理的告警,并附上备注</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="120"/>
        <source>&amp;Report to IT…</source>
        <translation>报告信息技术部门…(&amp;R)</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="127"/>
        <source>&amp;Note:</source>
        <translation>备注(&amp;N):</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="122"/>
        <source>Copy a fault report to the clipboard, save it, and optionally e-mail it to IT</source>
        <translation>将故障报告复制到剪贴板并保存,可选择通过邮件发送给信息技术部门</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="193"/>
        <source>Active</source>
        <translation>当前告警</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="194"/>
        <source>Cleared, not yet acknowledged</source>
        <translation>已恢复,尚未确认</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="195"/>
        <source>Acknowledged</source>
        <translation>已确认</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="225"/>
        <source>acknowledged {0} by {1}</source>
        <translation>{1} 于 {0} 确认</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="231"/>
        <source>raised {0} times, last {1}</source>
        <translation>共出现 {0} 次,最近一次 {1}</translation>
    </message>
    <message>
        <location filename="../../app/ui/alerts_view.py" line="234"/>
        <source>cleared {0}</source>
        <translation>{0} 恢复</translation>
    </message>
</context>
<context>
    <name>Announcer</name>
    <message>
        <location filename="../../app/ui/tray.py" line="220"/>
        <source>Still unacknowledged — {0}</source>
        <extracomment>The tooltip&apos;s countdown of a pending value (&quot;alert in 3 min&quot;) moves in steps of this many seconds: nobody may be hovering over the icon, so it is redrawn once a step, not every second. How far past its moment the tooltip is redrawn (ms), so the new text is the one shown. How often the end of a call is looked for while notifications are held for it (ms). The key of the one notification that sums up the alerts held during a call. When each alert was last announced in full (not held or muted in a call): flaps keep quiet after. Alerts announced during the call in progress (id -&gt; was a re-announcement), shown after it. Which alerts each desktop notification on screen tells of (by its key).</extracomment>
        <translation>仍未确认 — {0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/tray.py" line="235"/>
        <source>Open alert centre</source>
        <translation>打开告警中心</translation>
    </message>
    <message>
        <location filename="../../app/ui/tray.py" line="275"/>
        <source>Alerts during your call: {0}</source>
        <translation>通话期间的告警:{0} 条</translation>
    </message>
</context>
<context>
    <name>BreakWindow</name>
    <message>
        <location filename="../../app/ui/breaks/windows.py" line="261"/>
        <source>Time for a {kind}</source>
        <translation>现在是{kind}时间</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks/windows.py" line="270"/>
        <source>&amp;Postpone {minutes:g} min ({left} left)</source>
        <translation>推迟 {minutes:g} 分钟(剩 {left} 次)(&amp;P)</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks/windows.py" line="273"/>
        <source>&amp;Skip</source>
        <translation>跳过(&amp;S)</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks/windows.py" line="275"/>
        <source>&amp;Back to work: phone call</source>
        <translation>接听电话,回到工作(&amp;B)</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks/windows.py" line="277"/>
        <source>Strict mode: this break cannot be skipped. A call ends it at once.</source>
        <translation>严格模式:本次休息不可跳过。来电时会立即结束。</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks/windows.py" line="281"/>
        <source>{time} left</source>
        <translation>剩余 {time}</translation>
    </message>
</context>
<context>
    <name>BreaksCard</name>
    <message>
        <location filename="../../app/ui/breaks/card.py" line="105"/>
        <source>Next: {kind} in {minutes} min</source>
        <translation>下一次:{minutes} 分钟后{kind}</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks/card.py" line="109"/>
        <source>No breaks scheduled</source>
        <translation>未安排休息</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks/card.py" line="111"/>
        <source>Now: {state}</source>
        <translation>当前:{state}</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks/card.py" line="113"/>
        <source>Activity source: {source}</source>
        <translation>活动检测来源:{source}</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks/card.py" line="116"/>
        <source>Take a break now</source>
        <translation>立即休息</translation>
    </message>
</context>
<context>
    <name>DeskwatchApp</name>
    <message>
        <location filename="../../app/ui/main.py" line="204"/>
        <source>Status and alerts</source>
        <extracomment>Optional features built by other modules; each has ``install(surface: Surface) -&gt; None``. Keys of the built-in actions; they work in the status panel and are shown in the tray menu. The panel&apos;s own key for its status tab (cards, then a card&apos;s detail with Enter). How often and how many times to look for a tray that was missing at start-up (2 min).</extracomment>
        <translation>状态和告警</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="205"/>
        <source>{0}: status, {1}: alerts</source>
        <translation>{0}:状态,{1}:告警</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="209"/>
        <source>Devices</source>
        <translation>设备</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="224"/>
        <source>&amp;Open status panel</source>
        <translation>打开状态面板(&amp;O)</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="225"/>
        <source>&amp;Alert centre</source>
        <translation>告警中心(&amp;A)</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="226"/>
        <source>Acknowledge a&amp;ll alerts</source>
        <translation>确认全部告警(&amp;L)</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="227"/>
        <source>Take a &amp;break now</source>
        <translation>立即休息(&amp;B)</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="228"/>
        <source>Start-of-shift &amp;check…</source>
        <translation>班前检查…(&amp;C)</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="229"/>
        <source>&amp;Settings…</source>
        <translation>设置…(&amp;S)</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="230"/>
        <source>&amp;Quit Deskwatch</source>
        <translation>退出 Deskwatch(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="234"/>
        <source>&amp;Pause break reminders</source>
        <translation>暂停休息提醒(&amp;P)</translation>
    </message>
    <message numerus="yes">
        <location filename="../../app/ui/main.py" line="236"/>
        <source>For %n minute(s)</source>
        <translation>
            <numerusform>%n 分钟</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="299"/>
        <source>No system tray was found, so Deskwatch runs in this window. Closing it quits Deskwatch; minimise it instead.</source>
        <translation>未找到系统托盘,Deskwatch 在此窗口中运行。关闭窗口将退出 Deskwatch,请改为最小化。</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="377"/>
        <location filename="../../app/ui/main.py" line="398"/>
        <source>Report to IT</source>
        <translation>报告信息技术部门</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="378"/>
        <source>The fault report is on the clipboard and saved as:
{0}</source>
        <translation>故障报告已复制到剪贴板,并保存为:
{0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="383"/>
        <source>Open e-mail to {0}</source>
        <translation>写邮件给 {0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/main.py" line="399"/>
        <source>The fault report could not be saved: {0}</source>
        <translation>无法保存故障报告:{0}</translation>
    </message>
</context>
<context>
    <name>DetailView</name>
    <message>
        <location filename="../../app/ui/panel/detail.py" line="58"/>
        <source>← All devices</source>
        <extracomment>Chart ranges offered in the detail view: key → seconds. Most points a chart draws; longer ranges are merged into this many buckets.</extracomment>
        <translation>← 全部设备</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel/detail.py" line="69"/>
        <source>Indicator:</source>
        <translation>指标:</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel/detail.py" line="78"/>
        <source>Hour</source>
        <translation>1 小时</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel/detail.py" line="79"/>
        <source>Shift (8 h)</source>
        <translation>一个班次(8 小时)</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel/detail.py" line="80"/>
        <source>Day</source>
        <translation>1 天</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel/detail.py" line="81"/>
        <source>Week</source>
        <translation>1 周</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel/detail.py" line="131"/>
        <source>No data in this range yet</source>
        <translation>此时间段内暂无数据</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel/detail.py" line="134"/>
        <source>No numeric indicator</source>
        <translation>没有数值型指标</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel/detail.py" line="158"/>
        <source>Minimum {0}   Average {1}   Maximum {2}</source>
        <translation>最小 {0}   平均 {1}   最大 {2}</translation>
    </message>
</context>
<context>
    <name>DeviceCard</name>
    <message>
        <location filename="../../app/ui/panel/cards.py" line="162"/>
        <source>Charts</source>
        <translation>趋势图</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel/cards.py" line="228"/>
        <source>Open: press Enter to hide the rows</source>
        <translation>已展开:按回车键收起各项</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel/cards.py" line="230"/>
        <source>Closed: press Enter to show every row</source>
        <translation>已收起:按回车键显示全部各项</translation>
    </message>
</context>
<context>
    <name>PreBreakNotice</name>
    <message>
        <location filename="../../app/ui/breaks/windows.py" line="134"/>
        <source>{kind} in {seconds} s</source>
        <extracomment>Goes to the pre-break notice from any Deskwatch window. The notice itself never takes the keyboard (the clerk may be typing into the CRM or the softphone when it appears); this key, or a click, moves the focus there, and then Tab and the buttons&apos; Alt keys work.</extracomment>
        <translation>{seconds} 秒后{kind}</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks/windows.py" line="135"/>
        <source>Finish what you are typing; the break starts by itself.</source>
        <translation>请完成手头的输入,休息将自动开始。</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks/windows.py" line="136"/>
        <source>{key}: go to these buttons</source>
        <translation>{key}:转到这些按钮</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks/windows.py" line="138"/>
        <source>&amp;Postpone {minutes:g} min ({left} left)</source>
        <translation>推迟 {minutes:g} 分钟(剩 {left} 次)(&amp;P)</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks/windows.py" line="144"/>
        <source>&amp;Skip</source>
        <translation>跳过(&amp;S)</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks/windows.py" line="146"/>
        <source>Start &amp;now</source>
        <translation>立即开始(&amp;N)</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks/windows.py" line="141"/>
        <source>No postpones left</source>
        <translation>已无推迟次数</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks/windows.py" line="147"/>
        <source>&amp;Back to work: phone call</source>
        <translation>接听电话,回到工作(&amp;B)</translation>
    </message>
</context>
<context>
    <name>QuietNotice</name>
    <message>
        <location filename="../../app/ui/breaks/windows.py" line="175"/>
        <source>{kind} overdue</source>
        <translation>{kind}已超时</translation>
    </message>
    <message>
        <location filename="../../app/ui/breaks/windows.py" line="176"/>
        <source>Held for your call for {minutes} min. Take it when the call ends.</source>
        <translation>因通话已推迟 {minutes} 分钟。请在通话结束后休息。</translation>
    </message>
</context>
<context>
    <name>ReportDialog</name>
    <message>
        <location filename="../../app/ui/selftest.py" line="200"/>
        <source>Reports</source>
        <translation>报表</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="214"/>
        <source>Per day</source>
        <translation>按天</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="215"/>
        <source>Per shift</source>
        <translation>按班次</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="217"/>
        <source>Columns</source>
        <translation>列</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="221"/>
        <source>Save in</source>
        <translation>保存到</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="209"/>
        <source>&amp;From</source>
        <translation>从(&amp;F)</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="210"/>
        <source>&amp;To</source>
        <translation>到(&amp;T)</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="211"/>
        <source>First day of the report</source>
        <translation>报表的第一天</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="212"/>
        <source>Last day of the report</source>
        <translation>报表的最后一天</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="216"/>
        <source>C&amp;olumns</source>
        <translation>列(&amp;O)</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="217"/>
        <source>Per day or per shift</source>
        <translation>按天或按班次</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="221"/>
        <source>The folder the report files are written to</source>
        <translation>报表文件保存的文件夹</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="223"/>
        <source>&amp;Browse…</source>
        <translation>浏览…(&amp;B)</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="223"/>
        <source>Choose the folder</source>
        <translation>选择文件夹</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="227"/>
        <source>&amp;Save in</source>
        <translation>保存到(&amp;S)</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="230"/>
        <source>Open the report &amp;when it is ready</source>
        <translation>生成后打开报表(&amp;W)</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="240"/>
        <source>Create &amp;report</source>
        <translation>生成报表(&amp;R)</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="243"/>
        <source>Report status</source>
        <translation>报表状态</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="250"/>
        <source>Save reports in</source>
        <translation>报表保存位置</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="264"/>
        <source>Creating the report…</source>
        <translation>正在生成报表…</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="284"/>
        <source>The report could not be created: %1</source>
        <translation>无法生成报表:%1</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="295"/>
        <source>Saved:</source>
        <translation>已保存:</translation>
    </message>
</context>
<context>
    <name>SelfTestDialog</name>
    <message>
        <location filename="../../app/ui/selftest.py" line="95"/>
        <source>Start-of-shift check</source>
        <extracomment>Worker lanes: one check and one report at a time, beside the panel&apos;s own work.</extracomment>
        <translation>班前检查</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="98"/>
        <source>Check that every device works before you start taking calls.</source>
        <translation>开始接听电话前,检查各设备是否正常。</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="109"/>
        <source>&amp;Print a test page</source>
        <translation>打印测试页(&amp;P)</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="114"/>
        <source>&amp;Run check</source>
        <translation>开始检查(&amp;R)</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="119"/>
        <source>&amp;Close</source>
        <translation>关闭(&amp;C)</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="119"/>
        <source>Close the checklist (Esc)</source>
        <translation>关闭检查清单(Esc)</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="123"/>
        <source>Check summary</source>
        <translation>检查结果摘要</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="124"/>
        <source>Checklist</source>
        <translation>检查清单</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="139"/>
        <source>Checking the devices…</source>
        <translation>正在检查设备…</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="162"/>
        <source>The check could not run: %1</source>
        <translation>检查无法运行:%1</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="177"/>
        <source>All devices are ready (%1 passed, %2 skipped).</source>
        <translation>所有设备就绪(%1 项通过,%2 项跳过)。</translation>
    </message>
    <message>
        <location filename="../../app/ui/selftest.py" line="179"/>
        <source>%3 check(s) failed: see what to do below (%1 passed, %2 skipped).</source>
        <translation>%3 项检查未通过:请按下方提示处理(%1 项通过,%2 项跳过)。</translation>
    </message>
</context>
<context>
    <name>SelfTestFeature</name>
    <message>
        <location filename="../../app/ui/selftest.py" line="322"/>
        <location filename="../../app/ui/selftest.py" line="331"/>
        <source>&amp;Reports…</source>
        <translation>报表…(&amp;R)</translation>
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
        <location filename="../../app/ui/settings_dialog.py" line="184"/>
        <source>Deskwatch settings</source>
        <extracomment>What a screen reader says after the name: the help and the allowed values.</extracomment>
        <translation>Deskwatch 设置</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="195"/>
        <source>Settings pages</source>
        <translation>设置页面</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="196"/>
        <source>Up and down arrows choose a page; Tab goes to its fields</source>
        <translation>上下方向键选择页面;Tab 键进入其中的设置项</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="204"/>
        <source>Problems</source>
        <translation>问题</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="215"/>
        <source>OK</source>
        <translation>确定</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="215"/>
        <source>Save, apply and close (Enter)</source>
        <translation>保存、应用并关闭(回车)</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="217"/>
        <source>&amp;Apply</source>
        <translation>应用(&amp;A)</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="220"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="221"/>
        <source>Close without saving (Esc)</source>
        <translation>不保存并关闭(Esc)</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="232"/>
        <source>No user configuration file: settings cannot be saved.</source>
        <translation>没有用户配置文件:无法保存设置。</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="261"/>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="264"/>
        <source>default</source>
        <translation>默认</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="266"/>
        <source>Allowed: {0}</source>
        <translation>允许的值:{0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="268"/>
        <source>(empty: the default)</source>
        <translation>(留空:使用默认值)</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="273"/>
        <source>set by your IT department</source>
        <translation>由信息部门设定</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="279"/>
        <source>Edit these entries in {0}</source>
        <translation>请在 {0} 中编辑这些条目</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="295"/>
        <source>Locked in the site file {0}</source>
        <translation>已在站点配置文件 {0} 中锁定</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="305"/>
        <source>General</source>
        <translation>常规</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="306"/>
        <source>Alerts</source>
        <translation>告警</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="307"/>
        <source>History</source>
        <translation>历史记录</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="308"/>
        <source>Break reminders</source>
        <translation>休息提醒</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="309"/>
        <source>Start-of-shift check</source>
        <translation>班前检查</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="310"/>
        <source>Reports</source>
        <translation>报表</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="311"/>
        <source>Prometheus metrics</source>
        <translation>Prometheus 指标</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="320"/>
        <source>Start Deskwatch when I log in</source>
        <translation>登录时自动启动 Deskwatch</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="329"/>
        <source>Monitoring</source>
        <translation>监测</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="338"/>
        <location filename="../../app/ui/settings_dialog.py" line="459"/>
        <location filename="../../app/ui/settings_dialog.py" line="462"/>
        <source>Thresholds: {0}</source>
        <translation>阈值:{0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="362"/>
        <source>{0}: allowed is {1}</source>
        <translation>{0}:允许的值为 {1}</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="418"/>
        <source>Cannot change start at login: {0}</source>
        <translation>无法更改登录时自动启动:{0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="429"/>
        <source>Cannot write {0}: {1}</source>
        <translation>无法写入 {0}:{1}</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="441"/>
        <source>the critical level must be beyond the warning level</source>
        <translation>严重值必须比警告值更偏离正常范围</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="443"/>
        <source>a clear level must be on the normal side of its limit</source>
        <translation>解除值必须位于对应阈值的正常一侧</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="446"/>
        <source>the low end of a range must not be above its high end</source>
        <translation>范围的下限不能高于上限</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="449"/>
        <source>a clear margin must be smaller than the critical margin</source>
        <translation>解除裕量必须小于严重裕量</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="463"/>
        <source>{0}: {1}</source>
        <translation>{0}:{1}</translation>
    </message>
</context>
<context>
    <name>StartingIcon</name>
    <message>
        <location filename="../../app/ui/startup.py" line="93"/>
        <source>&amp;Quit Deskwatch</source>
        <extracomment>How long a quit during start-up waits for the runtime being built, so that its history is closed.</extracomment>
        <translation>退出 Deskwatch(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../../app/ui/startup.py" line="97"/>
        <source>Deskwatch is starting…</source>
        <translation>Deskwatch 正在启动…</translation>
    </message>
</context>
<context>
    <name>StatusPanel</name>
    <message>
        <location filename="../../app/ui/panel/window.py" line="84"/>
        <source>Deskwatch — workstation status</source>
        <extracomment>Longest slice of GUI-thread time spent applying state changes per event-loop pass.</extracomment>
        <translation>Deskwatch — 工位状态</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel/window.py" line="96"/>
        <source>Acknowledge all</source>
        <translation>全部确认</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel/window.py" line="98"/>
        <source>Start-of-shift check</source>
        <translation>班前检查</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel/window.py" line="100"/>
        <source>Reports</source>
        <translation>报表</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel/window.py" line="102"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel/window.py" line="145"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel/window.py" line="147"/>
        <location filename="../../app/ui/panel/window.py" line="271"/>
        <source>Alerts</source>
        <translation>告警</translation>
    </message>
    <message>
        <location filename="../../app/ui/panel/window.py" line="197"/>
        <source>Configuration problems (defaults are used for these keys):</source>
        <translation>配置有误(以下各项使用默认值):</translation>
    </message>
</context>
<context>
    <name>WeekChart</name>
    <message>
        <location filename="../../app/ui/breaks/card.py" line="50"/>
        <source>Screen work per day (h) and breaks taken</source>
        <translation>每日屏幕工作(小时)与休息次数</translation>
    </message>
</context>
</TS>

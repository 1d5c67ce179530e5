// The kube-mesos dashboard: polls /api/dashboard every second and renders zones × agents, pending pods and recent
// events. Plain browser JavaScript, no framework and no build step. Every server-provided string goes through esc().
'use strict';

(function () {
  const POLL_MS = 1000;
  const MAX_EVENTS = 60;
  const $ = (id) => document.getElementById(id);

  let lastOkAt = 0;
  let lastView = null;
  let busy = new Set(); // fault buttons waiting for an answer, by action key
  const rendered = new Map(); // element id → last HTML, so unchanged parts keep their DOM (and focus)

  function esc(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  }

  function setHtml(el, html) {
    if (rendered.get(el) === html) return;
    rendered.set(el, html);
    el.innerHTML = html;
  }

  function num(n, digits) {
    if (!Number.isFinite(n)) return '–';
    return Number.isInteger(n) ? String(n) : n.toFixed(digits);
  }

  function mem(mb) {
    if (!Number.isFinite(mb)) return '–';
    return mb >= 1024 ? `${num(mb / 1024, 1)} GiB` : `${num(mb, 0)} MiB`;
  }

  function ago(ms) {
    if (!Number.isFinite(ms) || ms < 0) return '';
    const s = Math.round(ms / 1000);
    if (s < 60) return `${s}s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
    return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
  }

  /** up | down | unknown, and a word for the badge. Mesos' view (sandbox) wins; otherwise the kubelet's. */
  function health(a) {
    if (a.mesos) {
      const st = a.mesos.state;
      if (st === 'active' && a.mesos.reachable) return { health: 'up', label: 'active' };
      if (st === 'active') return { health: 'down', label: 'partitioned' };
      if (st === 'disconnected') return { health: 'down', label: 'failed' };
      return { health: 'down', label: st };
    }
    if (a.lost) return { health: 'down', label: 'lost' };
    if (a.kubelet === 'gone') return { health: 'down', label: 'kubelet gone' };
    if (a.kubelet) return { health: 'up', label: `kubelet ${a.kubelet}` };
    return { health: 'unknown', label: `offer ${ago(a.lastOfferAgoMs)} ago` };
  }

  function phaseClass(phase) {
    const p = String(phase || 'Unknown').toLowerCase();
    return ['running', 'pending', 'succeeded', 'failed'].includes(p) ? `phase-${p}` : 'phase-unknown';
  }

  const LOST_STATES = new Set(['TASK_LOST', 'TASK_UNREACHABLE', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR', 'TASK_DROPPED', 'TASK_FAILED', 'TASK_ERROR']);

  function bar(kind, used, free, text) {
    const total = used + free;
    const pct = total > 0 ? Math.min(100, Math.round((used / total) * 100)) : 0;
    const label = `${kind} ${text}`;
    return `<div class="bar-row"><span class="bar-kind">${esc(kind)}</span>` +
      `<div class="bar" role="img" aria-label="${esc(label)}"><div class="bar-used ${pct >= 90 ? 'hot' : ''}" style="width:${pct}%"></div></div>` +
      `<span class="bar-text">${esc(text)}</span></div>`;
  }

  function faultButton(scope, target, action, label) {
    const key = `${scope}/${target}/${action}`;
    const cls = action === 'fail' ? 'btn danger' : 'btn';
    return `<button type="button" class="${cls}" data-fault="${esc(scope)}" data-target="${esc(target)}" data-action="${esc(action)}"` +
      ` aria-label="${esc(`${action === 'fail' ? 'Fail' : 'Recover'} ${scope === 'zones' ? 'zone' : 'agent'} ${label}`)}"${busy.has(key) ? ' disabled' : ''}>` +
      `${action === 'fail' ? 'Fail' : 'Recover'}</button>`;
  }

  function agentCard(a, faults) {
    const h = health(a);
    const pods = a.pods || [];
    const chips = pods.map((p) => {
      const name = String(p.key).split('/').pop();
      const lost = LOST_STATES.has(p.taskState) ? ' lost' : '';
      return `<li class="chip ${phaseClass(p.phase)}${lost}" title="${esc(`${p.key} · ${p.phase} · ${p.taskState}`)}">${esc(name)}</li>`;
    }).join('');
    const kubelet = a.kubelet ? `kubelet ${a.kubelet}` : 'no kubelet';
    const button = !faults ? '' : h.health === 'up' ? faultButton('agents', a.id, 'fail', a.hostname) : faultButton('agents', a.id, 'recover', a.hostname);
    return `<article class="agent health-${h.health}" data-agent-id="${esc(a.id)}" data-hostname="${esc(a.hostname)}" data-health="${h.health}"` +
      ` data-mesos-state="${esc(a.mesos ? a.mesos.state : '')}" aria-label="${esc(`agent ${a.hostname}, ${h.label}`)}">` +
      `<header class="agent-head"><h4 class="host" title="${esc(a.id)}">${esc(a.hostname)}</h4>` +
      `<span class="badge health-${h.health}">${esc(h.label)}</span>${button}</header>` +
      `<div class="meta"><span class="kubelet kubelet-${esc(a.kubelet || 'none')}">${esc(kubelet)}</span>` +
      `<span class="podcount">${pods.length} pod${pods.length === 1 ? '' : 's'}</span></div>` +
      bar('cpu', a.used.cpus, a.free.cpus, `${num(a.used.cpus, 2)} used · ${num(a.free.cpus, 2)} free`) +
      bar('mem', a.used.mem, a.free.mem, `${mem(a.used.mem)} used · ${mem(a.free.mem)} free`) +
      (chips ? `<ul class="chips" aria-label="pods on ${esc(a.hostname)}">${chips}</ul>` : '<p class="nopods">no pods</p>') +
      `</article>`;
  }

  function zoneColumn(z, faults) {
    const up = z.agents.filter((a) => health(a).health === 'up').length;
    const down = z.agents.filter((a) => health(a).health === 'down').length;
    const pods = z.agents.reduce((n, a) => n + (a.pods || []).length, 0);
    const state = down === 0 ? 'ok' : down === z.agents.length ? 'down' : 'degraded';
    const summary = faults || down > 0 ? `${up}/${z.agents.length} agents up` : `${z.agents.length} agents`;
    const buttons = faults ? `<div class="actions">${faultButton('zones', z.name, 'fail', z.name)}${faultButton('zones', z.name, 'recover', z.name)}</div>` : '';
    return `<header class="zone-head zone-${state}"><h3>Zone ${esc(z.name)}</h3>` +
      `<p class="zone-sum">${esc(summary)} · ${pods} pod${pods === 1 ? '' : 's'}</p>${buttons}</header>` +
      `<div class="agents">${z.agents.map((a) => agentCard(a, faults)).join('')}</div>`;
  }

  function renderZones(v) {
    const host = $('zones');
    const faults = v.faults && v.faults.available;
    if (!v.zones.length) {
      setHtml(host, '<p class="empty">No agents yet: waiting for the first offers from Mesos…</p>');
      return;
    }
    // One column element per zone, kept across refreshes so a zone whose content did not change is not touched.
    if (host.querySelector('.empty')) {
      host.innerHTML = '';
      rendered.delete(host);
    }
    const wanted = new Set(v.zones.map((z) => z.name));
    for (const col of [...host.children]) if (!wanted.has(col.dataset.zone)) col.remove();
    host.style.setProperty('--zones', String(v.zones.length));
    v.zones.forEach((z, i) => {
      let col = [...host.children].find((c) => c.dataset.zone === z.name);
      if (!col) {
        col = document.createElement('section');
        col.className = 'zone';
        col.dataset.zone = z.name;
        col.setAttribute('aria-label', `zone ${z.name}`);
      }
      if (host.children[i] !== col) host.insertBefore(col, host.children[i] || null);
      setHtml(col, zoneColumn(z, faults));
    });
  }

  function renderTotals(v) {
    let used = { cpus: 0, mem: 0 };
    let free = { cpus: 0, mem: 0 };
    for (const z of v.zones) for (const a of z.agents) {
      used = { cpus: used.cpus + a.used.cpus, mem: used.mem + a.used.mem };
      free = { cpus: free.cpus + a.free.cpus, mem: free.mem + a.free.mem };
    }
    const t = v.totals;
    const items = [
      ['Zones', v.zones.length],
      ['Agents', t.agents],
      ['Kubelets', t.kubelets],
      ['Pods (tasks)', t.tasks],
      ['Pending', t.pending],
      ['Offers held', t.offersHeld],
      ['CPUs used · free', `${num(used.cpus, 2)} · ${num(free.cpus, 2)}`],
      ['Memory used · free', `${mem(used.mem)} · ${mem(free.mem)}`],
    ];
    setHtml($('totals'), items.map(([k, val]) => `<div class="total" data-total="${esc(k)}"><dt>${esc(k)}</dt><dd>${esc(val)}</dd></div>`).join(''));
    const fw = v.frameworkId ? `framework ${v.frameworkId}` : 'no framework id yet';
    $('framework').title = fw;
    setHtml($('framework'), `<span class="${v.subscribed ? 'ok' : 'bad'}">${v.subscribed ? 'subscribed to Mesos' : 'not subscribed to Mesos'}</span>` +
      `<span class="fwid">${esc(fw)}</span>`);
  }

  function renderPending(v) {
    $('pending-count').textContent = String(v.pending.length);
    const html = v.pending.length
      ? v.pending.map((p) => `<li><div class="pkey">${esc(p.key)} <span class="muted">waiting ${esc(ago(v.atMs - p.sinceMs))}</span></div>` +
          `<div class="reason">${esc(p.message)}</div></li>`).join('')
      : '<li class="empty">Nothing waiting: every pod has a place.</li>';
    setHtml($('pending'), html);
  }

  function renderEvents(v) {
    const evs = v.events.slice(0, MAX_EVENTS);
    const html = evs.length
      ? evs.map((e) => `<li class="ev ev-${e.type === 'Warning' ? 'warn' : 'normal'}"><div class="ev-head"><span class="ev-reason">${esc(e.reason)}</span>` +
          ` <span class="ev-obj">${esc(e.object)}</span><span class="ev-ago">${esc(ago(v.atMs - e.atMs))} ago</span></div>` +
          `<div class="ev-msg">${esc(e.message)}</div></li>`).join('')
      : '<li class="empty">No events yet.</li>';
    setHtml($('events'), html);
  }

  function render(v) {
    lastView = v;
    renderTotals(v);
    renderZones(v);
    renderPending(v);
    renderEvents(v);
    const notice = $('notice');
    if (v.faults && v.faults.error) {
      notice.hidden = false;
      notice.textContent = `Fault buttons are off: ${v.faults.error}`;
    } else if (!notice.dataset.sticky) {
      notice.hidden = true;
    }
  }

  function setConn(ok, text) {
    const el = $('conn');
    el.className = `conn ${ok ? 'conn-ok' : 'conn-bad'}`;
    if (el.textContent !== text) el.textContent = text;
  }

  async function poll() {
    try {
      const res = await fetch('/api/dashboard', { cache: 'no-store', signal: AbortSignal.timeout(5000) });
      const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
      if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
      lastOkAt = Date.now();
      render(body);
      setConn(true, 'live');
      document.body.dataset.loaded = 'true';
    } catch (err) {
      const since = lastOkAt ? ` · last update ${ago(Date.now() - lastOkAt)} ago` : '';
      setConn(false, `${err && err.message ? err.message : 'no answer'}${since}`);
    } finally {
      setTimeout(() => void poll(), POLL_MS);
    }
  }

  async function fault(scope, target, action) {
    const key = `${scope}/${target}/${action}`;
    busy.add(key);
    if (lastView) render(lastView);
    const what = `${action} ${scope === 'zones' ? 'zone' : 'agent'} ${target}`;
    try {
      const res = await fetch(`/api/faults/${scope}/${encodeURIComponent(target)}/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
      $('announce').textContent = `${what}: done`;
    } catch (err) {
      const notice = $('notice');
      notice.hidden = false;
      notice.dataset.sticky = 'true';
      notice.textContent = `Could not ${what}: ${err.message}`;
      setTimeout(() => { delete notice.dataset.sticky; }, 5000);
    } finally {
      busy.delete(key);
      if (lastView) render(lastView);
    }
  }

  document.addEventListener('click', (ev) => {
    const btn = ev.target instanceof Element ? ev.target.closest('button[data-fault]') : null;
    if (!btn || btn.disabled) return;
    void fault(btn.dataset.fault, btn.dataset.target, btn.dataset.action);
  });

  void poll();
})();

// The delivery screen (docs/screen.md). Every change goes through POST /api/request as one
// request of the library's API; the page keeps no delivery rule: the list order is the library's
// (`list`), the buttons are the order's `actions`. All order text goes in as text (textContent).
'use strict';

const $ = (id) => document.getElementById(id);
const state = {
  token: sessionStorage.getItem('dlvToken') || '',
  user: null, // {id, name}
  users: [],
  paymentTypes: [],
  orders: [], // as the library lists them
  settings: null,
  jobs: {}, // orderId -> [{jobId, document}] printed here, for a reprint
  openId: null,
  warned: {},
};

// Display names of the statuses, used only when an order carries no statusName.
const STATUS_RU = {
  Unconfirmed: 'Не подтверждена', WaitCooking: 'Ожидает', ReadyForCooking: 'Пора готовить',
  CookingStarted: 'Готовится', CookingCompleted: 'Готово', Waiting: 'Ждёт отправки',
  OnWay: 'В пути', Delivered: 'Доставлена', Closed: 'Закрыта', Cancelled: 'Отменена',
};
// Buttons, in this order, for the actions an order lists.
const ACTIONS = [
  ['Confirm', 'Подтвердить'], ['CookingStarted', 'Готовить'], ['CookingCompleted', 'Приготовлен'],
  ['Waiting', 'Готов к отправке'], ['Pay', 'Оплата'], ['AssignCourier', 'Курьер'],
  ['OnWay', 'Отправить'], ['Delivered', 'Доставлен'], ['Closed', 'Закрыть'],
  ['PrintInvoice', 'Печать счёта'], ['Cancel', 'Отменить'],
];

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function toast(text, warn) {
  const t = el('div', warn ? 'toast warn' : 'toast', text);
  $('toasts').appendChild(t);
  setTimeout(() => t.remove(), 6000);
}

function show(screen) {
  for (const s of ['token', 'login', 'list', 'card', 'new', 'health'])
    $(s + '-screen').hidden = s !== screen;
  const inside = !!state.user;
  $('nav-list').hidden = !inside;
  $('nav-new').hidden = !inside;
  $('nav-logout').hidden = !inside;
  if (screen === 'list') renderList();
}

// ---- requests ----

async function request(body, quiet) {
  const headers = { 'Content-Type': 'application/json' };
  if (state.token) headers['X-Delivery-Token'] = state.token;
  let r;
  try {
    r = await fetch('/api/request', { method: 'POST', headers, body: JSON.stringify(body),
      cache: 'no-store', credentials: 'omit' });
  } catch (e) {
    toast('Нет связи с кассой', true);
    return { ok: false, error: 'Network' };
  }
  if (r.status === 401) { show('token'); return { ok: false, error: 'Unauthorized' }; }
  const reply = await r.json();
  if (!reply.ok && reply.message && !quiet) toast(reply.message, true);
  return reply;
}

async function act(body, done) {
  const reply = await request(body);
  if (reply.ok) {
    if (reply.change !== undefined && Number(reply.change) > 0) toast('Сдача: ' + money(reply.change));
    if (done) done(reply);
    refreshList();
  }
  return reply;
}

// ---- events (Server-Sent Events read with fetch, so the token goes in a header) ----

async function events() {
  for (;;) {
    try {
      const headers = {};
      if (state.token) headers['X-Delivery-Token'] = state.token;
      const r = await fetch('/events', { headers, cache: 'no-store', credentials: 'omit' });
      if (r.status === 401) { show('token'); return; }
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const chunk = buf.slice(0, i);
          buf = buf.slice(i + 2);
          for (const line of chunk.split('\n'))
            if (line.startsWith('data: ')) onMessage(JSON.parse(line.slice(6)));
        }
      }
    } catch (e) { /* the host went away: try again */ }
    setConnection('offline');
    await new Promise((ok) => setTimeout(ok, 1000));
  }
}

function setConnection(s) {
  $('conn').textContent = s === 'online' ? 'В сети' : 'Нет связи';
  $('conn').className = 'badge ' + (s === 'online' ? 'online' : 'offline');
}

function setPending(n) {
  $('pending').textContent = 'Ждут отправки: ' + n;
}

function onMessage(m) {
  if (m.reply === 'list') { state.orders = m.orders || []; renderAll(); return; }
  if (m.reply === 'health') { applyHealth(m.health); return; }
  switch (m.event) {
    case 'registered': state.settings = m.settings || null; break;
    case 'settingsChanged': break;
    case 'connection': setConnection(m.state); refreshHealth(); break;
    case 'order': upsert(m.order); refreshList(); break;
    case 'orderRemoved':
      state.orders = state.orders.filter((o) => o.id !== m.orderId); renderAll(); break;
    case 'statusChanged':
      if (m.to === 'ReadyForCooking') toast('Пора готовить: ' + orderName(m.orderId), true);
      refreshList();
      break;
    case 'overdueCooking': toast('Просрочено: ' + orderName(m.orderId), true); break;
    case 'showDeliveryList': state.orders = m.orders || state.orders; if (state.user) show('list'); break;
    case 'printed': case 'printFailed': case 'reprintOffered':
      if (m.jobId !== undefined) {
        const list = state.jobs[m.orderId] || (state.jobs[m.orderId] = []);
        if (!list.some((j) => j.jobId === m.jobId)) list.push({ jobId: m.jobId, document: m.document });
        if (m.event !== 'printed') toast('Не напечатано: ' + m.document + ' ' + (m.error || ''), true);
        if (state.openId === m.orderId) renderCard();
      }
      break;
    case 'commandRejected': toast('Касса отклонила: ' + (m.description || m.error), true); break;
    case 'stopped': setConnection('offline'); break;
  }
}

function orderName(id) {
  const o = state.orders.find((x) => x.id === id);
  return o ? '№' + o.number : '';
}

function upsert(o) {
  const i = state.orders.findIndex((x) => x.id === o.id);
  if (i >= 0) state.orders[i] = Object.assign({}, state.orders[i], o);
  else state.orders.push(o);
  if (o.overdue && !state.warned[o.id]) {
    state.warned[o.id] = true;
    toast('Просрочен заказ №' + o.number, true);
  }
  renderAll();
}

let listTimer = null;
function refreshList() {
  clearTimeout(listTimer);
  listTimer = setTimeout(async () => {
    if (!state.user && !$('list-screen').hidden) return;
    const r = await request({ cmd: 'list' });
    if (r.ok) { state.orders = r.orders || []; renderAll(); }
    refreshHealth();
  }, 150);
}

async function refreshHealth() {
  const r = await request({ cmd: 'health' });
  if (r.ok) applyHealth(r.health);
}

function applyHealth(h) {
  if (!h) return;
  if (h.state) setConnection(h.state);
  else if (h.online !== undefined) setConnection(h.online ? 'online' : 'offline');
  if (h.pendingCommands !== undefined) setPending(h.pendingCommands);
  if (!$('health-screen').hidden) renderHealth(h);
}

// ---- the list ----

function money(v) {
  const n = Number(v || 0);
  return n.toFixed(2).replace('.', ',') + ' ₽';
}

function deadline(o) {
  if (!o.completeBefore) return null;
  const t = Date.parse(String(o.completeBefore).replace(' ', 'T'));
  return isNaN(t) ? null : t;
}

function countdown(o) {
  const t = deadline(o);
  if (t === null) return '';
  const left = Math.round((t - Date.now()) / 60000);
  const a = Math.abs(left);
  const text = Math.floor(a / 60) + ':' + String(a % 60).padStart(2, '0');
  return left < 0 ? 'просрочен на ' + text : 'осталось ' + text;
}

function addressText(o) {
  if (o.serviceType === 'DeliveryByClient') return 'Самовывоз';
  const a = o.address;
  if (!a) return '';
  return [a.city, a.street, a.house, a.building && 'стр. ' + a.building, a.flat && 'кв. ' + a.flat]
    .filter(Boolean).join(', ');
}

function sumToPay(o) {
  return o.sumToPay !== undefined ? o.sumToPay : o.resultSum;
}

function paymentState(o) {
  if (o.sumToPay === undefined) return '';
  return Number(o.sumToPay) > 0 ? 'Не оплачен' : 'Оплачен';
}

function courierName(o) {
  if (!o.courier) return '';
  return typeof o.courier === 'string' ? o.courier : o.courier.name || '';
}

function actionButtons(o, box) {
  const actions = o.actions || [];
  for (const [name, label] of ACTIONS) {
    if (!actions.includes(name)) continue;
    const b = el('button', name === 'Cancel' ? 'danger' : '', label);
    b.dataset.action = name;
    b.addEventListener('click', (e) => { e.stopPropagation(); runAction(o, name); });
    box.appendChild(b);
  }
}

// The list is rebuilt only when the orders changed (or, each 30 s, for the countdowns): every
// event re-fetches `list`, and a row replaced under the operator's finger loses the click.
let listShown = '';
function renderList(force) {
  const key = JSON.stringify(state.orders);
  if (key === listShown && !force) return;
  listShown = key;
  const box = $('orders');
  box.replaceChildren();
  $('empty').hidden = state.orders.length > 0;
  for (const o of state.orders) {
    const row = el('div', o.overdue ? 'order overdue' : 'order');
    row.dataset.id = o.id;
    row.dataset.number = o.number;
    row.appendChild(el('div', 'number', o.number));
    const mid = el('div');
    mid.appendChild(el('div', 'status', o.statusName || STATUS_RU[o.status] || o.status));
    mid.appendChild(el('div', 'countdown', countdown(o)));
    row.appendChild(mid);
    const who = el('div');
    who.appendChild(el('div', 'address', addressText(o)));
    who.appendChild(el('div', 'muted courier', courierName(o) && 'Курьер: ' + courierName(o)));
    row.appendChild(who);
    const sum = el('div', 'sum', money(sumToPay(o)));
    sum.appendChild(el('div', 'muted paid', paymentState(o)));
    row.appendChild(sum);
    const actions = el('div', 'actions');
    actionButtons(o, actions);
    row.appendChild(actions);
    row.addEventListener('click', () => openCard(o.id));
    box.appendChild(row);
  }
}

function renderAll() {
  if (!$('list-screen').hidden) renderList();
  if (!$('card-screen').hidden) renderCard();
}

// ---- the order card ----

async function openCard(id) {
  state.openId = id;
  show('card');
  renderCard();
  const r = await request({ cmd: 'getOrder', orderId: id }, true);
  if (r.ok && r.order) { upsert(r.order); }
}

function line(box, label, value, cls) {
  if (value === undefined || value === null || value === '') return;
  const p = el('p', cls);
  p.appendChild(el('b', '', label + ': '));
  p.appendChild(document.createTextNode(String(value)));
  box.appendChild(p);
}

let cardShown = '';
function renderCard() {
  const o = state.orders.find((x) => x.id === state.openId);
  const key = JSON.stringify([state.openId, o, state.jobs[state.openId]]);
  if (key === cardShown && $('card').childElementCount) return;
  cardShown = key;
  const box = $('card');
  box.replaceChildren();
  if (!o) { box.appendChild(el('p', '', 'Заказ закрыт или удалён')); return; }
  box.appendChild(el('h2', '', 'Заказ №' + o.number));
  line(box, 'Статус', o.statusName || STATUS_RU[o.status] || o.status);
  line(box, 'Срок', countdown(o));
  line(box, 'Адрес', addressText(o));
  const c = o.customer || {};
  line(box, 'Клиент', c.name || o.customerName);
  line(box, 'Телефон', c.phone || o.phone);
  if (c.highRisk) box.appendChild(el('p', 'risk', 'Высокий риск'));
  line(box, 'Комментарий клиента', c.comment);
  line(box, 'Комментарий', o.comment, 'comment');
  line(box, 'Курьер', courierName(o));
  if (o.items && o.items.length) {
    const t = el('table');
    const h = el('tr');
    for (const x of ['Блюдо', 'Кол-во', 'Цена', 'Сумма']) h.appendChild(el('th', '', x));
    t.appendChild(h);
    for (const it of o.items) {
      const tr = el('tr');
      const name = el('td', '', it.name);
      for (const m of it.modifiers || []) name.appendChild(el('div', 'muted', '+ ' + (m.name || '') + (m.amount > 1 ? ' ×' + m.amount : '')));
      if (it.comment) name.appendChild(el('div', 'muted', it.comment));
      tr.append(name, el('td', '', it.amount), el('td', '', money(it.price)), el('td', '', money(it.sum)));
      t.appendChild(tr);
    }
    box.appendChild(t);
  }
  line(box, 'Сумма', o.resultSum !== undefined ? money(o.resultSum) : '');
  if (Number(o.discountSum)) line(box, 'Скидка', money(o.discountSum));
  if (Number(o.surchargeSum)) line(box, 'Надбавка', money(o.surchargeSum));
  for (const p of o.payments || []) line(box, 'Оплата', (p.name || p.kind) + ' ' + money(p.sum));
  line(box, 'К оплате', o.sumToPay !== undefined ? money(o.sumToPay) : '');
  if (Number(o.change)) line(box, 'Сдача', money(o.change));
  const actions = el('div', 'actions');
  actionButtons(o, actions);
  for (const j of state.jobs[o.id] || []) {
    const b = el('button', 'secondary', 'Повторить печать: ' + j.document);
    b.dataset.action = 'Reprint';
    b.addEventListener('click', () => act({ cmd: 'reprint', jobId: j.jobId }, () => toast('Отправлено на печать')));
    actions.appendChild(b);
  }
  box.appendChild(actions);
}

// ---- dialogs ----

function dialog(title, fields, onOk) {
  const box = $('dialog-box');
  box.replaceChildren(el('h3', '', title));
  for (const f of fields) box.appendChild(f);
  const buttons = el('div', 'buttons');
  const ok = el('button', '', 'OK');
  ok.id = 'dialog-ok';
  const cancel = el('button', 'secondary', 'Отмена');
  cancel.addEventListener('click', () => { $('dialog').hidden = true; });
  ok.addEventListener('click', async () => {
    const r = await onOk();
    if (r && r.ok) $('dialog').hidden = true;
  });
  buttons.append(ok, cancel);
  box.appendChild(buttons);
  $('dialog').hidden = false;
}

function field(label, input) {
  const l = el('label', '', label + ' ');
  l.appendChild(input);
  return l;
}

function select(id, options) {
  const s = el('select');
  s.id = id;
  for (const [value, text] of options) {
    const o = el('option', '', text);
    o.value = value;
    s.appendChild(o);
  }
  return s;
}

function input(id, value, type) {
  const i = el('input');
  i.id = id;
  if (type) i.type = type;
  if (value !== undefined) i.value = value;
  return i;
}

function localNow() {
  const d = new Date(Date.now() - new Date().getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

function runAction(o, name) {
  const id = o.id;
  switch (name) {
    case 'Confirm': return act({ cmd: 'confirm', orderId: id });
    case 'CookingStarted': case 'CookingCompleted': case 'Waiting': case 'OnWay': case 'Closed':
      return act({ cmd: 'setStatus', orderId: id, status: name });
    case 'PrintInvoice': return act({ cmd: 'printInvoice', orderId: id }, () => toast('Счёт отправлен на печать'));
    case 'Delivered': {
      // Left as shown, the field means "now": no actualTime, so no D_SADT is needed and a minute
      // rounded down cannot fall before the order's creation. A changed time goes as RFC 3339
      // with its offset (UTC), which the library requires.
      const shown = localNow();
      const t = input('delivered-time', shown, 'datetime-local');
      return dialog('Доставлен №' + o.number, [field('Фактическое время', t)], () => {
        const when = t.value && t.value !== shown ? new Date(t.value) : null;
        return act({ cmd: 'setStatus', orderId: id, status: 'Delivered',
          actualTime: when && !isNaN(when) ? when.toISOString() : undefined });
      });
    }
    case 'Pay': {
      const types = state.paymentTypes.length ? state.paymentTypes
        : [{ id: '09322f46-578a-d210-add7-eec222a08871', name: 'Наличные', kind: 'Cash' }];
      const kind = select('pay-type', types.map((p) => [p.id, p.name]));
      const sum = input('pay-sum', String(sumToPay(o) || ''), 'text');
      sum.inputMode = 'decimal';
      const change = el('p', 'muted');
      const update = () => {
        const d = Number(sum.value.replace(',', '.')) - Number(sumToPay(o) || 0);
        change.textContent = d > 0 ? 'Сдача: ' + money(d) : '';
      };
      sum.addEventListener('input', update);
      return dialog('Оплата №' + o.number + ' — к оплате ' + money(sumToPay(o)),
        [field('Тип оплаты', kind), field('Получено', sum), change], () => {
          const t = types.find((p) => p.id === kind.value);
          return act({ cmd: 'pay', orderId: id, payments: [{ paymentTypeId: t.id, kind: t.kind,
            sum: Number(sum.value.replace(',', '.')) }] });
        });
    }
    case 'AssignCourier': {
      const couriers = (state.settings && state.settings.couriers) || [];
      const s = select('courier', couriers.map((c) => [c.id,
        c.name + (Number(c.debt) ? ' (долг ' + money(c.debt) + ')' : '')]));
      return dialog('Курьер для №' + o.number, [field('Курьер', s)], () =>
        act({ cmd: 'assignCourier', orderId: id, courierId: s.value }));
    }
    case 'Cancel': {
      const causes = (state.settings && state.settings.cancelCauses) || [];
      const s = select('cancel-cause', causes.map((c) => [c.id, c.name]));
      const comment = input('cancel-comment', '');
      return dialog('Отмена №' + o.number, [field('Причина', s), field('Комментарий', comment)], () =>
        act({ cmd: 'cancel', orderId: id, cancelCauseId: s.value, comment: comment.value || undefined }));
    }
  }
}

// ---- login, new order, health ----

async function loadUsers() {
  const r = await request({ cmd: 'users' });
  if (!r.ok) return;
  state.users = r.users || [];
  state.paymentTypes = r.paymentTypes || [];
  const box = $('users');
  box.replaceChildren();
  if (!state.users.length) box.appendChild(el('p', '', 'Нет пользователей: запустите кассу с --users FILE'));
  for (const u of state.users) {
    const b = el('button', '', u.name);
    b.dataset.user = u.id;
    b.addEventListener('click', () => login(u));
    box.appendChild(b);
  }
}

async function login(u) {
  const r = await request({ cmd: 'login', userId: u.id, pin: $('pin').value });
  $('pin').value = '';
  if (!r.ok) { $('login-error').textContent = r.message || 'Вход не выполнен'; return; }
  $('login-error').textContent = '';
  state.user = { id: u.id, name: u.name };
  sessionStorage.setItem('dlvUser', JSON.stringify(state.user));
  $('who').textContent = u.name;
  show('list');
  refreshList();
}

async function logout() {
  // Forget the user before asking the host, so a reload meanwhile already shows the login.
  state.user = null;
  sessionStorage.removeItem('dlvUser');
  $('who').textContent = '';
  show('login');
  await request({ cmd: 'logout' });
}

function openNew() {
  const types = ['DeliveryByCourier', 'DeliveryByClient'];
  const s = state.settings || {};
  const allowed = s.deliveryServiceType && s.deliveryServiceType !== 'Both' ? [s.deliveryServiceType] : types;
  $('new-type').replaceChildren(...allowed.map((t) => {
    const o = el('option', '', t === 'DeliveryByClient' ? 'Самовывоз' : 'Доставка курьером');
    o.value = t;
    return o;
  }));
  const city = (s.cities || []).find((c) => c.id === s.defaultCityId);
  if (city && !$('new-city').value) $('new-city').value = city.name;
  $('new-time').value = localNow();
  show('new');
}

function uuid() {
  return crypto.randomUUID ? crypto.randomUUID() : '10000000-1000-4000-8000-100000000000'.replace(/[018]/g,
    (c) => (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16));
}

async function createOrder() {
  const price = Number($('new-price').value.replace(',', '.')) || 0;
  const order = {
    serviceType: $('new-type').value,
    completeBefore: $('new-time').value ? new Date($('new-time').value).toISOString() : undefined,
    phone: $('new-phone').value,
    customer: { name: $('new-name').value, inBlacklist: false },
    personsCount: 1, splitBetweenPersons: false,
    items: [{ positionId: uuid(), productId: uuid(), name: $('new-item').value || 'Блюдо', amount: 1,
      price, sum: price, modifiers: [] }],
    payments: [], fullSum: price, discountSum: 0, resultSum: price,
    comment: $('new-comment').value || undefined,
  };
  if (order.serviceType === 'DeliveryByCourier')
    order.address = { city: $('new-city').value, street: $('new-street').value, house: $('new-house').value };
  const r = await act({ cmd: 'createOrder', order });
  if (r.ok) { toast('Создан заказ №' + r.number); show('list'); }
}

function renderHealth(h) {
  const box = $('health');
  box.replaceChildren();
  for (const [k, v] of Object.entries(h)) {
    if (typeof v === 'object') continue;
    line(box, k, v);
  }
}

async function openHealth() {
  show('health');
  refreshHealth();
}

async function runDoctor() {
  const box = $('doctor');
  box.replaceChildren(el('p', 'muted', 'Проверка…'));
  const r = await request({ cmd: 'doctor' });
  box.replaceChildren();
  const checks = (r.doctor && r.doctor.checks) || [];
  for (const c of checks) {
    const bad = c.result && c.result !== 'ok' && c.result !== 'pass';
    const d = el('div', bad ? 'check bad' : 'check');
    d.appendChild(el('b', '', c.name + ': ' + c.result));
    if (c.detail) d.appendChild(el('div', '', c.detail));
    if (c.advice) d.appendChild(el('div', 'muted', 'Совет: ' + c.advice));
    box.appendChild(d);
  }
}

// ---- start ----

function start() {
  $('token-ok').addEventListener('click', () => {
    state.token = $('token-input').value;
    sessionStorage.setItem('dlvToken', state.token);
    location.reload();
  });
  $('nav-list').addEventListener('click', () => show('list'));
  $('nav-new').addEventListener('click', openNew);
  $('nav-health').addEventListener('click', openHealth);
  $('nav-logout').addEventListener('click', logout);
  $('card-back').addEventListener('click', () => { state.openId = null; show('list'); });
  $('new-ok').addEventListener('click', createOrder);
  $('doctor-run').addEventListener('click', runDoctor);
  const saved = sessionStorage.getItem('dlvUser');
  state.user = saved ? JSON.parse(saved) : null;
  $('who').textContent = state.user ? state.user.name : '';
  show(state.user ? 'list' : 'login');
  loadUsers();
  events();
  setInterval(() => { if (!$('list-screen').hidden) renderList(true); }, 30000);
  setInterval(refreshHealth, 5000);
}

document.addEventListener('DOMContentLoaded', start);

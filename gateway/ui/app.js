// The operator web view: plain DOM, no framework, no network beyond this gateway. Every value from
// the API is set as text (never as HTML).

const $ = (selector) => document.querySelector(selector)
const MAX_FEED = 200

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue
    if (key === 'class') node.className = value
    else node.setAttribute(key, value)
  }
  for (const child of children) {
    if (child === undefined || child === null) continue
    node.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return node
}

async function api(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } })
  const body = await res.json()
  if (!res.ok) throw new Error(`${body.code ?? res.status}: ${body.shortMessage ?? res.statusText}`)
  return body
}

function fill(tbody, rows, columns, emptyText) {
  tbody.replaceChildren()
  if (rows.length === 0) {
    tbody.append(el('tr', { class: 'empty' }, el('td', { colspan: String(columns) }, emptyText)))
    return
  }
  for (const row of rows) tbody.append(row)
}

const time = (ms) => new Date(ms).toLocaleTimeString()
const charge = (c) => (c ? `${c.amount} ${c.currency ?? ''}`.trim() : '')

function healthBadge(provider) {
  const h = provider.health ?? { circuit: 'closed', samples: 0 }
  const ratio = h.successRatio === undefined ? '' : ` ${Math.round(h.successRatio * 100)}%`
  const latency = h.latencyMs === undefined ? '' : ` ${h.latencyMs.toFixed(1)} ms`
  const cost = provider.cost ? ` · ${provider.cost.baseUnits} ${provider.cost.unit}` : ''
  return el(
    'span',
    {
      class: `badge ${h.circuit}`,
      title: `${provider.endpoint}\ncircuit ${h.circuit}, ${h.samples} samples`,
    },
    `${provider.id} ${h.circuit}${ratio}${latency}${cost}`,
  )
}

let search = ''

async function loadFunctions() {
  const query = new URLSearchParams({ details: 'true', limit: '200' })
  if (search) query.set('q', search)
  const body = await api(`/v1/functions?${query}`)
  const rows = []
  for (const fn of body.functions) {
    const versions = fn.versions ?? []
    const latest = versions.find((v) => v.version === fn.latestVersion) ?? versions[0]
    const others = versions.filter((v) => v !== latest).map((v) => v.version)
    rows.push(
      el(
        'tr',
        { 'data-function': fn.name },
        el(
          'td',
          {},
          el('code', {}, fn.name),
          fn.description ? el('div', { class: 'muted small' }, fn.description) : null,
        ),
        el(
          'td',
          {},
          fn.latestVersion ?? '',
          others.length ? el('div', { class: 'muted small' }, `also ${others.join(', ')}`) : null,
          fn.error ? el('div', { class: 'error small' }, fn.error.code) : null,
        ),
        el('td', { class: 'small' }, fn.sources.join(', ')),
        el('td', {}, ...(latest?.providers ?? []).map(healthBadge)),
      ),
    )
  }
  fill($('#functions tbody'), rows, 4, search ? 'no function matches' : 'no functions yet')
  $('#count-functions').textContent = String(body.functions.length)
  $('#registries').textContent = body.registries.length
    ? `registries: ${body.registries.map((r) => `${r.id} ${r.status === 'ok' ? `(${r.names} ${r.names === 1 ? 'name' : 'names'})` : `(${r.error?.code})`}`).join(', ')}`
    : 'no registries configured: local functions only'
}

async function loadCalls() {
  const body = await api('/v1/calls?limit=50')
  fill(
    $('#calls tbody'),
    body.calls.map((c) =>
      el(
        'tr',
        { 'data-invocation': c.invocationId },
        el('td', { class: 'small' }, time(c.at)),
        el('td', {}, el('code', {}, `${c.name}${c.version ? `@${c.version}` : ''}`)),
        el('td', { class: 'small' }, c.providerId ?? ''),
        el('td', { class: 'small' }, c.principal),
        el('td', { class: c.outcome }, c.outcome === 'ok' ? 'ok' : (c.code ?? 'error')),
        el('td', { class: c.lineage }, c.lineage),
        el('td', { class: 'num' }, charge(c.charge)),
        el('td', { class: 'num' }, c.durationMs.toFixed(1)),
      ),
    ),
    8,
    'no calls yet',
  )
  $('#count-calls').textContent = String(body.calls.length)
}

async function loadUsage(by) {
  const body = await api(`/v1/usage?by=${by}`)
  fill(
    $(`#usage-${by} tbody`),
    body.rows.map((r) =>
      el(
        'tr',
        {},
        el('td', {}, el('code', {}, r.key)),
        el('td', { class: 'num' }, r.calls),
        el('td', { class: 'num' }, r.amount),
        el('td', {}, r.currency ?? 'free'),
      ),
    ),
    4,
    'no charges yet',
  )
}

async function loadPeers() {
  const body = await api('/v1/peers')
  const list = $('#peers')
  list.replaceChildren()
  if (body.peers.length === 0) list.append(el('li', { class: 'empty' }, 'no peers connected'))
  for (const p of body.peers)
    list.append(
      el('li', {}, el('code', {}, p.peerId), el('div', { class: 'muted small' }, p.addrs.join(' '))),
    )
  $('#count-peers').textContent = String(body.peers.length)
  $('#count-gossip').textContent = `${body.gossip.accepted} / ${body.gossip.rejected}`
}

function describe(kind, data) {
  if (kind === 'call')
    return `${data.name}${data.version ? `@${data.version}` : ''} ${data.outcome === 'ok' ? 'ok' : (data.code ?? 'error')} via ${data.providerId ?? '-'}${data.charge ? `, ${charge(data.charge)}` : ''} (${data.principal})`
  if (kind === 'publish') return `${data.name} seq ${data.seq} to ${data.registries.join(', ')}`
  if (kind === 'change')
    return `${data.registry}: ${data.names.length} names${data.reason ? ` (${data.reason})` : ''}`
  if (kind === 'peer') return `${data.type === 'peer:connect' ? 'connected' : 'disconnected'} ${data.peerId}`
  if (kind === 'gossip') return `${data.outcome} ${data.name ?? ''} from ${data.from ?? '?'}`
  return data.type ?? kind
}

function addFeed(kind, data) {
  const feed = $('#feed')
  feed.querySelector('.empty')?.remove()
  const item = el(
    'li',
    { 'data-event': kind, class: data.outcome === 'error' ? 'error' : undefined },
    el('span', { class: 'kind' }, kind),
    el('span', { class: 'muted small' }, `${time(data.at ?? Date.now())} `),
    describe(kind, data),
  )
  feed.prepend(item)
  while (feed.children.length > MAX_FEED) feed.lastElementChild.remove()
}

const pending = new Map()
function soon(name, work) {
  if (pending.has(name)) return
  pending.set(
    name,
    setTimeout(() => {
      pending.delete(name)
      work().catch(showError)
    }, 250),
  )
}

function showError(err) {
  $('#feed-state').textContent = `error: ${err.message}`
  $('#feed-state').className = 'state down'
}

function connect() {
  const source = new EventSource('/v1/events')
  source.addEventListener('open', () => {
    $('#feed-state').textContent = 'live'
    $('#feed-state').className = 'state live'
  })
  source.addEventListener('error', () => {
    $('#feed-state').textContent = 'reconnecting'
    $('#feed-state').className = 'state down'
  })
  for (const kind of ['call', 'publish', 'change', 'peer', 'gossip', 'service']) {
    source.addEventListener(kind, (event) => {
      const data = JSON.parse(event.data)
      addFeed(kind, data)
      if (kind === 'call') {
        soon('calls', loadCalls)
        soon('usage', () => Promise.all([loadUsage('provider'), loadUsage('function')]))
        soon('functions', loadFunctions)
      } else if (kind === 'publish' || kind === 'change') soon('functions', loadFunctions)
      else if (kind === 'peer' || kind === 'gossip') soon('peers', loadPeers)
    })
  }
}

$('#search').addEventListener('input', (event) => {
  search = event.target.value.trim()
  soon('functions', loadFunctions)
})
$('#feed').append(el('li', { class: 'empty' }, 'waiting for calls and announcements'))

Promise.all([loadFunctions(), loadCalls(), loadUsage('provider'), loadUsage('function'), loadPeers()])
  .then(() => document.body.setAttribute('data-loaded', 'true'))
  .catch(showError)
connect()

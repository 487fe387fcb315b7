/*
 * The realvirtual signal monitor: a sidebar tab of the Node-RED editor that shows every
 * deployed realvirtual and MinVR3 connection, its peers and its signals, live, and lets a
 * user with the realvirtual.write permission set (and hold) the signals we write.
 * The runtime sends only the rows of the visible window, every 100 ms at most, over comms.
 */
/* global RED, $ */
(function () {
  'use strict';
  if (!window.RED || !RED.sidebar || window.__realvirtualMonitor) return;
  window.__realvirtualMonitor = true;
  var NS = 'node-red-contrib-realvirtual/realvirtual-connection:realvirtual-connection.monitor.';
  function t(key, subs) { return RED._(NS + key, subs); }
  var ROW_HEIGHT = 26;
  var MARGIN_ROWS = 20;
  var RENEW_MS = 5000;
  var RECENT_MS = 10000;

  var state = {
    watch: null, topic: null, connection: '', connections: [], header: null, total: 0, offset: 0,
    rows: {}, canWrite: false, paused: false, search: '', direction: 'all', recent: false, only: null,
    editing: null, renewTimer: null, requestTimer: null, queryId: 0,
    gen: -1, seq: 0, inFlight: 0, early: [],
  };

  var content = $('<div class="red-ui-rv-monitor" style="position:relative;height:100%;display:flex;flex-direction:column"></div>');
  var toolbar = $('<div class="red-ui-sidebar-header" style="flex:0 0 auto;display:flex;flex-wrap:wrap;gap:4px;align-items:center"></div>').appendTo(content);
  var connectionSelect = $('<select class="red-ui-rv-monitor-connection" style="flex:1 1 140px;min-width:0"></select>').appendTo(toolbar);
  var pauseButton = $('<button type="button" class="red-ui-footer-button red-ui-rv-monitor-pause"><i class="fa fa-pause"></i></button>').appendTo(toolbar);
  var searchRow = $('<div class="red-ui-sidebar-header" style="flex:0 0 auto;display:flex;gap:4px;align-items:center"></div>').appendTo(content);
  var searchInput = $('<input type="text" class="red-ui-rv-monitor-search" style="flex:1 1 auto;min-width:0">').attr('placeholder', t('search')).appendTo(searchRow);
  var directionSelect = $('<select class="red-ui-rv-monitor-direction" style="width:110px;flex:0 0 auto"></select>').appendTo(searchRow);
  ['all', 'read', 'write'].forEach(function (d) { $('<option>').val(d).text(t('direction.' + d)).appendTo(directionSelect); });
  var recentButton = $('<button type="button" class="red-ui-footer-button-toggle single red-ui-rv-monitor-recent" style="flex:0 0 auto"><i class="fa fa-clock-o"></i></button>').attr('title', t('recentTip')).attr('aria-label', t('recent')).appendTo(searchRow);
  var onlyBar = $('<div class="red-ui-rv-monitor-only" style="display:none;flex:0 0 auto;padding:2px 8px;background:var(--red-ui-secondary-background-selected,#eee)"></div>').appendTo(content);
  var headerBox = $('<div class="red-ui-rv-monitor-header" style="flex:0 0 auto;padding:4px 8px;font-size:12px;border-bottom:1px solid var(--red-ui-secondary-border-color,#ddd)"></div>').appendTo(content);
  var columns = $('<div class="red-ui-rv-monitor-columns" style="flex:0 0 auto;display:flex;font-size:11px;font-weight:bold;padding:2px 8px;color:var(--red-ui-secondary-text-color,#666)"></div>').appendTo(content);
  ['name', 'value', 'changed', 'by', 'rate'].forEach(function (c, i) {
    $('<span>').text(t('column.' + c)).css(columnStyle(i)).appendTo(columns);
  });
  var viewport = $('<div class="red-ui-rv-monitor-list" style="flex:1 1 auto;overflow-y:auto;position:relative"></div>').appendTo(content);
  var spacer = $('<div style="position:relative;width:100%"></div>').appendTo(viewport);
  var empty = $('<div class="red-ui-rv-monitor-empty" style="padding:16px;color:var(--red-ui-secondary-text-color,#888);display:none"></div>').appendTo(content);

  function columnStyle(i) {
    var widths = ['30%', '24%', '22%', '15%', '9%'];
    return { display: 'inline-block', width: widths[i], overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', verticalAlign: 'middle' };
  }

  function time(ms) {
    if (!ms) return '–';
    var d = new Date(ms);
    function p(n, w) { return String(n).padStart(w || 2, '0'); }
    return p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds()) + '.' + p(d.getMilliseconds(), 3);
  }

  function shown(value) {
    if (value === null || value === undefined) return '';
    return typeof value === 'string' ? value : JSON.stringify(value);
  }

  function query() {
    var visible = Math.ceil((viewport.height() || 400) / ROW_HEIGHT);
    var first = Math.floor(viewport.scrollTop() / ROW_HEIGHT);
    var offset = Math.max(0, first - MARGIN_ROWS);
    return {
      watch: state.watch || undefined, connection: state.connection, search: state.search, names: state.only || undefined,
      direction: state.direction, recentMs: state.recent ? RECENT_MS : 0, offset: offset, limit: Math.min(500, visible + 2 * MARGIN_ROWS),
    };
  }

  function post(route, body) {
    return $.ajax({ url: 'realvirtual/monitor/' + route, type: 'POST', contentType: 'application/json', data: JSON.stringify(body), dataType: 'json' });
  }

  function requestView() {
    clearTimeout(state.requestTimer);
    state.requestTimer = setTimeout(sendView, 60);
  }

  function sendView() {
    var id = ++state.queryId;
    state.inFlight++;
    state.early = [];
    post('watch', query()).done(function (frame) {
      if (id !== state.queryId) return;
      if (state.watch !== frame.watch) subscribe(frame.watch);
      state.canWrite = !!frame.canWrite;
      state.rows = {};
      state.gen = frame.gen;
      state.seq = frame.seq;
      apply(frame, true);
      // Updates of this view that came over comms before this answer.
      state.early.forEach(function (early) { if (early.gen === state.gen && early.seq > state.seq) { state.seq = early.seq; apply(early, false); } });
      state.early = [];
    }).fail(function (xhr) {
      showEmpty((xhr.responseJSON && xhr.responseJSON.message) || t('unavailable'));
    }).always(function () {
      state.inFlight--;
    });
  }

  function subscribe(watch) {
    if (state.topic) RED.comms.unsubscribe(state.topic, onFrame);
    state.watch = watch;
    state.topic = 'realvirtual/monitor/' + watch;
    RED.comms.subscribe(state.topic, onFrame);
  }

  function onFrame(_topic, frame) {
    if (state.paused || !frame || frame.watch !== state.watch) return;
    if (state.inFlight > 0) {
      if (state.early.length < 50) state.early.push(frame);
      return;
    }
    // A frame of an earlier view (still on its way when the view changed) is dropped.
    if (frame.gen !== state.gen || frame.seq <= state.seq) return;
    state.seq = frame.seq;
    apply(frame, false);
  }

  function start() {
    if (state.renewTimer) return;
    sendView();
    state.renewTimer = setInterval(function () {
      if (!content.is(':visible')) { stop(); return; }
      if (state.watch) post('watch', { watch: state.watch, renew: true }).done(function (answer) { if (!answer || answer.ok !== true) sendView(); });
    }, RENEW_MS);
  }

  /** Ends the watch; `tell` false: without telling the runtime (its lease of 15 s then ends it). */
  function stop(tell) {
    clearInterval(state.renewTimer);
    state.renewTimer = null;
    clearTimeout(state.requestTimer);
    state.requestTimer = null;
    if (state.topic) RED.comms.unsubscribe(state.topic, onFrame);
    if (state.watch && tell !== false) post('unwatch', { watch: state.watch });
    state.watch = null;
    state.topic = null;
  }

  function apply(frame, full) {
    if (frame.connections) renderConnections(frame.connections, frame.connection);
    if (frame.connection !== undefined) state.connection = frame.connection;
    if (frame.header) { state.header = frame.header; renderHeader(); }
    if (frame.total !== undefined) state.total = frame.total;
    if (frame.offset !== undefined && frame.offset !== state.offset) { state.offset = frame.offset; if (!full) state.rows = {}; }
    (frame.rows || []).forEach(function (r) { state.rows[r[0]] = r; });
    for (var key in state.rows) if (+key < state.offset || +key >= state.offset + 500 + 1) delete state.rows[key];
    render();
  }

  function renderConnections(list, current) {
    state.connections = list;
    connectionSelect.empty();
    list.forEach(function (c) {
      $('<option>').val(c.id).text((c.kind === 'minvr' ? 'MinVR3: ' : 'realvirtual: ') + c.name + ' (' + c.state + ')').appendTo(connectionSelect);
    });
    connectionSelect.val(current || state.connection);
    if (list.length === 0) showEmpty(t('none'));
  }

  function renderHeader() {
    var h = state.header;
    headerBox.empty();
    if (!h) return;
    $('<div class="red-ui-rv-monitor-state">').text(t('mode.' + (h.mode || 'client')) + ' · ' + h.state + (h.url ? ' · ' + h.url : '')).appendTo(headerBox);
    var peers = $('<div class="red-ui-rv-monitor-peers">').appendTo(headerBox);
    if (h.peers.length === 0) $('<div>').css('color', 'var(--red-ui-secondary-text-color,#888)').text(t('noPeers')).appendTo(peers);
    h.peers.forEach(function (p) {
      var parts = [p.name];
      if (p.address !== p.name) parts.push(p.address);
      if (p.since) parts.push(t('since', { time: time(p.since) }));
      parts.push(p.subscription === null ? t('subscribedAll') : t('subscribed', { count: p.subscription }));
      if (p.framesPerSec !== null) parts.push(t('frames', { rate: p.framesPerSec }));
      $('<div class="red-ui-rv-monitor-peer">').text('• ' + parts.join(' · ')).appendTo(peers);
    });
  }

  function showEmpty(text) {
    empty.text(text).show();
  }

  function render() {
    var total = state.total;
    empty.toggle(total === 0).text(total === 0 ? (state.connections.length ? t('noSignals') : t('none')) : '');
    spacer.css('height', total * ROW_HEIGHT + 'px');
    var first = Math.floor(viewport.scrollTop() / ROW_HEIGHT);
    var count = Math.ceil((viewport.height() || 400) / ROW_HEIGHT) + 2;
    var keep = {};
    for (var pos = first; pos < Math.min(total, first + count); pos++) {
      keep[pos] = true;
      var row = state.rows[pos];
      var el = spacer.children('[data-pos="' + pos + '"]');
      if (el.length === 0) el = $('<div class="red-ui-rv-monitor-row">').attr('data-pos', pos).css({ position: 'absolute', left: 0, right: 0, top: pos * ROW_HEIGHT + 'px', minHeight: ROW_HEIGHT + 'px', padding: '0 8px', lineHeight: ROW_HEIGHT + 'px', fontSize: '12px', borderBottom: '1px solid var(--red-ui-secondary-border-color,#eee)', background: 'var(--red-ui-secondary-background,#fff)', cursor: 'default' }).appendTo(spacer);
      fillRow(el, row);
    }
    spacer.children().each(function () { if (!keep[$(this).attr('data-pos')]) $(this).remove(); });
    if (!state.paused && state.editing === null) {
      var range = query();
      if (state.watch && (range.offset > state.offset + MARGIN_ROWS / 2 || (range.offset < state.offset && state.offset > 0))) requestView();
    }
  }

  function fillRow(el, row) {
    if (!row) { el.attr('data-name', '').empty().text('…'); return; }
    var name = row[1], type = row[2], direction = row[3], value = row[4], held = row[8] === 1;
    var key = JSON.stringify(row.slice(1));
    if (el.data('key') === key) return;
    if (state.editing === name && el.find('.red-ui-rv-monitor-editor').length) return;
    el.data('key', key).attr('data-name', name).attr('data-direction', direction).empty();
    el.css('background', held ? 'var(--red-ui-text-color-warning,#fbe3b5)' : 'var(--red-ui-secondary-background,#fff)');
    var arrow = direction === 'write' ? '→ ' : '← ';
    $('<span class="red-ui-rv-monitor-name">').css(columnStyle(0)).attr('title', name + ' (' + type + ', ' + t('direction.' + direction) + ')').text(arrow + name).appendTo(el);
    var valueCell = $('<span class="red-ui-rv-monitor-value">').css(columnStyle(1)).css('font-family', 'monospace').text(shown(value)).appendTo(el);
    if (held) $('<span class="red-ui-rv-monitor-held" style="margin-left:4px;padding:0 4px;border-radius:3px;background:#c00;color:#fff;font-size:10px;font-weight:bold">').attr('title', t('heldTip')).text(t('held')).prependTo(valueCell);
    $('<span>').css(columnStyle(2)).text(time(row[5])).appendTo(el);
    var by = row[6] || '';
    $('<span class="red-ui-rv-monitor-by">').css(columnStyle(3)).attr('title', by.indexOf('editor:') === 0 ? t('fromEditor', { user: by.slice(7) }) : by).text(by).appendTo(el);
    $('<span>').css(columnStyle(4)).text(row[7] === null ? '' : row[7] + '/s').appendTo(el);
    if (direction === 'write' && state.header && state.header.kind === 'realvirtual') {
      el.css('cursor', 'pointer').attr('title', state.canWrite ? t('clickToSet') : t('noPermission'));
    }
  }

  function openEditor(el) {
    var pos = +el.attr('data-pos');
    var row = state.rows[pos];
    if (!row || row[3] !== 'write' || !state.header || state.header.kind !== 'realvirtual') return;
    var name = row[1], type = row[2], held = row[8] === 1;
    state.editing = name;
    spacer.find('.red-ui-rv-monitor-editor').remove();
    var box = $('<div class="red-ui-rv-monitor-editor" style="display:flex;flex-wrap:wrap;gap:4px;align-items:center;padding:2px 0 4px 0;line-height:normal">').appendTo(el);
    el.css({ zIndex: 2, height: 'auto', boxShadow: '0 2px 6px rgba(0,0,0,0.2)' });
    var input;
    if (type === 'Bool') input = $('<input type="checkbox" class="red-ui-rv-monitor-input">').prop('checked', row[4] === true);
    else if (type === 'Int' || type === 'Float') input = $('<input type="number" class="red-ui-rv-monitor-input" style="width:110px">').attr('step', type === 'Int' ? '1' : 'any').val(row[4]);
    else input = $('<input type="text" class="red-ui-rv-monitor-input" style="width:140px">').val(row[4]);
    input.appendTo(box);
    var holdLabel = $('<label style="margin:0;display:inline-flex;align-items:center;gap:2px;width:auto"><input type="checkbox" class="red-ui-rv-monitor-hold" style="margin:0;width:auto"> ' + RED.utils.sanitize(t('hold')) + '</label>').appendTo(box);
    holdLabel.find('input').prop('checked', held);
    var setButton = $('<button type="button" class="red-ui-button red-ui-button-small red-ui-rv-monitor-set">').text(t('set')).appendTo(box);
    var releaseButton = $('<button type="button" class="red-ui-button red-ui-button-small red-ui-rv-monitor-release">').text(t('release')).toggle(held).appendTo(box);
    var closeButton = $('<button type="button" class="red-ui-button red-ui-button-small"><i class="fa fa-times"></i></button>').appendTo(box);
    var message = $('<div class="red-ui-rv-monitor-message" style="font-size:11px;flex-basis:100%;color:var(--red-ui-text-color-error,#c00)">').appendTo(box);
    if (!state.canWrite) {
      box.find('input,button').not(closeButton).prop('disabled', true);
      message.text(t('noPermission'));
    }
    function done() { state.editing = null; box.remove(); el.css({ zIndex: '', boxShadow: '' }).data('key', ''); render(); }
    closeButton.on('click', function (e) { e.stopPropagation(); done(); });
    box.on('click', function (e) { e.stopPropagation(); });
    setButton.on('click', function () {
      var value = type === 'Bool' ? input.prop('checked') : type === 'Text' ? input.val() : Number(input.val());
      post('write', { connection: state.connection, name: name, value: value, hold: holdLabel.find('input').prop('checked') })
        .done(function () { done(); })
        .fail(function (xhr) { message.text((xhr.responseJSON && xhr.responseJSON.message) || xhr.statusText); });
    });
    releaseButton.on('click', function () {
      post('release', { connection: state.connection, name: name }).done(function () { done(); }).fail(function (xhr) { message.text((xhr.responseJSON && xhr.responseJSON.message) || xhr.statusText); });
    });
    input.trigger('focus');
  }

  viewport.on('scroll', function () { render(); requestView(); });
  spacer.on('click', '.red-ui-rv-monitor-row', function () { if (state.editing === null) openEditor($(this)); });
  connectionSelect.on('change', function () { state.connection = connectionSelect.val(); clearOnly(); viewport.scrollTop(0); state.rows = {}; sendView(); });
  searchInput.on('input', function () { state.search = searchInput.val(); viewport.scrollTop(0); requestView(); });
  directionSelect.on('change', function () { state.direction = directionSelect.val(); viewport.scrollTop(0); requestView(); });
  recentButton.on('click', function () { state.recent = !state.recent; recentButton.toggleClass('selected', state.recent); viewport.scrollTop(0); requestView(); });
  pauseButton.attr('title', t('pause')).on('click', function () {
    state.paused = !state.paused;
    pauseButton.toggleClass('selected', state.paused).attr('title', state.paused ? t('resume') : t('pause')).find('i').toggleClass('fa-pause', !state.paused).toggleClass('fa-play', state.paused);
    if (!state.paused) sendView();
  });

  function clearOnly() { state.only = null; onlyBar.hide(); }

  /** Shows a connection filtered to a node's signals (realvirtual-in/-out) or a whole connection. */
  function showInMonitor(node) {
    var connection = node.type === 'realvirtual-connection' || node.type === 'minvr-connection' ? node.id : node.connection;
    if (!connection) return;
    RED.sidebar.show('realvirtual-monitor');
    state.connection = connection;
    var names = [];
    if (node.type === 'realvirtual-in' && node.signals) names = String(node.signals).split(',').map(function (s) { return s.trim(); }).filter(Boolean);
    if (node.type === 'realvirtual-out' && node.signal) names = [String(node.signal).trim()];
    state.search = '';
    searchInput.val('');
    state.only = names.length > 0 ? names : null;
    onlyBar.empty().toggle(!!state.only);
    if (state.only) {
      $('<span>').text(t('only', { node: node.name || node.type, count: names.length })).appendTo(onlyBar);
      $('<a href="#" style="margin-left:6px"><i class="fa fa-times"></i></a>').attr('title', t('showAll')).appendTo(onlyBar).on('click', function (e) { e.preventDefault(); clearOnly(); requestView(); });
    }
    viewport.scrollTop(0);
    state.rows = {};
    if (!state.renewTimer) start(); else sendView();
  }

  RED.sidebar.addTab({
    id: 'realvirtual-monitor',
    label: t('label'),
    name: t('title'),
    iconClass: 'fa fa-eye',
    content: content,
    enableOnEdit: true,
    onchange: function () { setTimeout(start, 0); },
  });
  RED.actions.add('realvirtual:show-monitor', function () { RED.sidebar.show('realvirtual-monitor'); });

  // "Show in monitor" in the edit dialog of the realvirtual nodes.
  var TYPES = ['realvirtual-connection', 'realvirtual-in', 'realvirtual-out', 'minvr-connection'];
  // The event comes before the tray is shown: the button is added once its footer exists.
  function addShowButton(node, attempt) {
    var tray = $('#red-ui-editor-stack .red-ui-tray').last();
    var footer = tray.find('.red-ui-tray-footer-left').first();
    if (footer.length === 0) {
      if (attempt < 40) setTimeout(function () { addShowButton(node, attempt + 1); }, 25);
      return;
    }
    if (footer.find('.red-ui-rv-monitor-show').length) return;
    $('<button type="button" class="red-ui-button red-ui-rv-monitor-show" style="margin-left:4px"><i class="fa fa-eye"></i> </button>')
      .append(document.createTextNode(t('showInMonitor')))
      .appendTo(footer)
      .on('click', function () { showInMonitor(node); });
  }
  // Logging out revokes the editor's token at once: renew no more and send nothing (an unwatch could
  // reach the runtime after the revoke and be refused); the runtime ends the watch when its lease runs out.
  RED.events.on('logout', function () { stop(false); });

  RED.events.on('editor:open', function () {
    var node = RED.editor.getEditStack ? RED.editor.getEditStack().slice(-1)[0] : null;
    if (node && TYPES.indexOf(node.type) !== -1) addShowButton(node, 0);
  });

  // "Show in monitor" in the workspace's context menu, for one selected realvirtual node.
  if (RED.contextMenu && RED.contextMenu.show) {
    var showMenu = RED.contextMenu.show;
    RED.contextMenu.show = function (options) {
      var result = showMenu.apply(this, arguments);
      var selection = (options && options.type === 'workspace' && RED.view.selection().nodes) || [];
      var menu = $('#red-ui-workspace-context-menu');
      if (selection.length === 1 && TYPES.indexOf(selection[0].type) !== -1 && menu.length) {
        var node = selection[0];
        var item = $('<li><a href="#" tabindex="-1" class="red-ui-rv-monitor-menu"><span class="red-ui-menu-label"><span></span></span></a></li>');
        item.find('.red-ui-menu-label span').text(t('showInMonitor'));
        item.find('a').on('click', function (e) {
          e.preventDefault();
          RED.contextMenu.hide();
          showInMonitor(node);
        });
        menu.append('<li class="red-ui-menu-divider"></li>').append(item);
      }
      return result;
    };
  }
  window.__realvirtualMonitorShow = showInMonitor;
})();

/* The properties panel of the BPMN editor: what our engine reads, in Chinese, plain DOM.
 *
 * Every change goes through bpmn-js `modeling` (so undo/redo and saving see it); lane mappings
 * live in model.json, which the panel edits in memory (`state.model`) and marks dirty. */
(function () {
  'use strict';

  var el = window.Studio.el;
  var FORM_SCHEMA = 'formJsonSchemaFilename';
  var FORM_UI = 'formUiSchemaFilename';
  var DUE = 'dueWorkingDays';
  var DUE_DATE = 'dueDate';
  var PANEL = 'panel';
  var ID_PATTERN = /^[A-Za-z_][\w.-]*$/;

  function is(bo, type) { return bo && typeof bo.$instanceOf === 'function' && bo.$instanceOf(type); }

  function createPanel(modeler, options) {
    var modeling = modeler.get('modeling');
    var moddle = modeler.get('moddle');
    var elementRegistry = modeler.get('elementRegistry');
    var config = options.config;
    var state = options.state;
    var root = options.container;
    var current = null;

    // -- extension elements --------------------------------------------------------------------
    function extensionOf(element, owner, create) {
      var ext = owner.extensionElements;
      if (!ext && create) {
        ext = moddle.create('bpmn:ExtensionElements', { values: [] });
        modeling.updateModdleProperties(element, owner, { extensionElements: ext });
      }
      return ext;
    }

    function findExt(owner, type) {
      var values = (owner.extensionElements && owner.extensionElements.values) || [];
      return values.filter(function (v) { return v.$type === type; })[0];
    }

    function removeExt(element, owner, item) {
      var ext = owner.extensionElements;
      modeling.updateModdleProperties(element, ext, { values: ext.values.filter(function (v) { return v !== item; }) });
    }

    function addExt(element, owner, item) {
      var ext = extensionOf(element, owner, true);
      modeling.updateModdleProperties(element, ext, { values: (ext.values || []).concat([item]) });
    }

    function property(bo, name) {
      var props = findExt(bo, 'spiffworkflow:Properties');
      var found = props && (props.properties || []).filter(function (p) { return p.name === name; })[0];
      return found ? found.value : '';
    }

    function setProperty(element, name, value) {
      var bo = element.businessObject;
      var props = findExt(bo, 'spiffworkflow:Properties');
      var list = (props && props.properties) || [];
      var found = list.filter(function (p) { return p.name === name; })[0];
      if (!value) {
        if (found) { modeling.updateModdleProperties(element, props, { properties: list.filter(function (p) { return p !== found; }) }); }
        return;
      }
      if (found) { modeling.updateModdleProperties(element, found, { value: value }); return; }
      if (!props) {
        props = moddle.create('spiffworkflow:Properties', { properties: [] });
        addExt(element, bo, props);
      }
      var created = moddle.create('spiffworkflow:Property', { name: name, value: value });
      modeling.updateModdleProperties(element, props, { properties: (props.properties || []).concat([created]) });
    }

    function bodyExt(owner, type) { var item = findExt(owner, type); return item ? (item.value || '') : ''; }

    function setBodyExt(element, owner, type, value) {
      var item = findExt(owner, type);
      if (!value) { if (item) { removeExt(element, owner, item); } return; }
      if (item) { modeling.updateModdleProperties(element, item, { value: value }); return; }
      addExt(element, owner, moddle.create(type, { value: value }));
    }

    // -- form controls ------------------------------------------------------------------------
    function field(label, control, help) {
      var id = 'prop-' + control.getAttribute('data-prop');
      control.id = id;
      return el('div', { class: 'field' }, [el('label', { for: id, text: label }), control,
        help ? el('p', { class: 'help', text: help }) : null]);
    }

    function input(prop, value, onChange, attrs) {
      var node = el('input', Object.assign({ type: 'text', 'data-prop': prop }, attrs || {}));
      node.value = value || '';
      node.disabled = !config.editable;
      node.addEventListener('change', function () { onChange(node.value.trim(), node); });
      return node;
    }

    function textarea(prop, value, onChange, rows) {
      var node = el('textarea', { 'data-prop': prop, rows: String(rows || 4), spellcheck: 'false', class: 'code' });
      node.value = value || '';
      node.disabled = !config.editable;
      node.addEventListener('change', function () { onChange(node.value); });
      return node;
    }

    function select(prop, value, choices, onChange) {
      var node = el('select', { 'data-prop': prop });
      var known = false;
      choices.forEach(function (choice) {
        var option = el('option', { value: choice[0], text: choice[1] });
        if (choice[0] === (value || '')) { option.selected = true; known = true; }
        node.appendChild(option);
      });
      if (value && !known) { node.appendChild(el('option', { value: value, text: value + '（不存在）', selected: 'selected' })); }
      node.disabled = !config.editable;
      node.addEventListener('change', function () { onChange(node.value); });
      return node;
    }

    function heading(text) { return el('h3', { text: text }); }

    // -- sections -----------------------------------------------------------------------------
    function general(element) {
      var bo = element.businessObject;
      var nodes = [field('编号（id）', input('id', bo.id, function (value, node) {
        if (value === bo.id) { return; }
        if (!ID_PATTERN.test(value) || (elementRegistry.get(value) && elementRegistry.get(value) !== element)) {
          node.value = bo.id;
          window.Studio.status('编号“' + value + '”不合法或已被使用（字母开头，只含字母、数字、下划线）', 'error');
          return;
        }
        modeling.updateProperties(element, { id: value });
      }), '校验结果按编号指向元素；已有案件迁移版本时依赖编号不变。')];
      nodes.push(field('名称', input('name', bo.name, function (value) {
        var old = bo.name;
        modeling.updateProperties(element, { name: value || undefined });
        if (is(bo, 'bpmn:Lane')) { renameLane(old, value); }
      })));
      return nodes;
    }

    function formSection(element) {
      var bo = element.businessObject;
      var schemas = config.forms.filter(function (f) { return /\.schema\.json$/.test(f); });
      var uis = config.forms.filter(function (f) { return !/\.schema\.json$/.test(f); });
      var none = [['', '（无）']];
      return [heading('表单'),
        field('表单字段文件（formJsonSchemaFilename）', select(FORM_SCHEMA, property(bo, FORM_SCHEMA),
          none.concat(schemas.map(function (f) { return [f, f]; })), function (v) { setProperty(element, FORM_SCHEMA, v); })),
        field('表单界面文件（formUiSchemaFilename）', select(FORM_UI, property(bo, FORM_UI),
          none.concat(uis.map(function (f) { return [f, f]; })), function (v) { setProperty(element, FORM_UI, v); })),
        field('办理期限（工作日，dueWorkingDays）', input(DUE, property(bo, DUE), function (v) {
          if (v && !/^\d+$/.test(v)) { window.Studio.status('办理期限应为工作日天数（整数）', 'error'); return; }
          setProperty(element, DUE, v);
        }, { inputmode: 'numeric' })),
        field('截止日期表达式（dueDate，优先于办理期限）', input(DUE_DATE, property(bo, DUE_DATE), function (v) {
          setProperty(element, DUE_DATE, v.trim());
        }), '例如 add_working_days(meeting_date, -5)；未设置时按办理期限或模型默认期限计算'),
        field('任务面板（panel）', select(PANEL, property(bo, PANEL),
          none.concat(config.panels.map(function (p) { return [p, p]; })), function (v) { setProperty(element, PANEL, v); }))];
    }

    function scriptSection(element) {
      var bo = element.businessObject;
      return [heading('脚本'), field('脚本（Python，受限环境）', textarea('script', bo.script, function (v) {
        modeling.updateProperties(element, { scriptFormat: 'python', script: v || undefined });
      }, 8), '可用函数：' + config.helpers.join('、'))];
    }

    function conditionSection(element) {
      var bo = element.businessObject;
      var source = bo.sourceRef;
      if (!is(source, 'bpmn:ExclusiveGateway') && !is(source, 'bpmn:InclusiveGateway') && !bo.conditionExpression) { return []; }
      return [heading('条件'), field('条件表达式', textarea('condition', bo.conditionExpression && bo.conditionExpression.body, function (v) {
        modeling.updateProperties(element, {
          conditionExpression: v.trim() ? moddle.create('bpmn:FormalExpression', { body: v.trim() }) : undefined
        });
      }, 3), '如 decision == "approve"；留空表示无条件（网关的默认路径请勿留空以外的条件）。')];
    }

    function timerSection(element, def) {
      var kind = def.timeDuration ? 'timeDuration' : (def.timeCycle ? 'timeCycle' : 'timeDate');
      var area = textarea('timer', def[kind] && def[kind].body, function (v) { save(v); }, 3);
      function save(v) {
        var props = {};
        props[kind] = v.trim() ? moddle.create('bpmn:FormalExpression', { body: v.trim() }) : undefined;
        modeling.updateModdleProperties(element, def, props);
      }
      var days = el('input', { type: 'number', min: '-365', max: '365', value: '5', id: 'prop-working-days', 'aria-label': '工作日天数' });
      var button = el('button', { type: 'button', class: 'btn', id: 'insert-working-days', text: '插入“N 个工作日后”' });
      button.disabled = !config.editable;
      button.addEventListener('click', function () {
        area.value = 'end_of_day(add_working_days(today(), ' + (parseInt(days.value, 10) || 0) + '))';
        save(area.value);
      });
      return [heading('定时器'),
        field(kind === 'timeDate' ? '到期时间表达式（timeDate）' : '定时器表达式（' + kind + '）', area,
          '表达式的值为 ISO 8601 时间；工作日按本系统的工作日历计算。可用：' + config.helpers.join('、')),
        el('div', { class: 'field studio-inline' }, [days, button])];
    }

    function messages() {
      var defs = modeler.getDefinitions();
      return (defs.rootElements || []).filter(function (r) { return is(r, 'bpmn:Message'); });
    }

    function messageSection(element, def) {
      var bo = element.businessObject;
      var choices = [['', '（未选择）']].concat(messages().map(function (m) { return [m.id, m.name || m.id]; }));
      var nodes = [heading('消息'), field('消息', select('message', def.messageRef && def.messageRef.id, choices, function (id) {
        var message = messages().filter(function (m) { return m.id === id; })[0];
        modeling.updateModdleProperties(element, def, { messageRef: message || undefined });
      }))];
      nodes.push(field('新建消息（名称）', input('new-message', '', function (name, node) {
        if (!name) { return; }
        var message = moddle.create('bpmn:Message', { id: 'Message_' + name.replace(/[^\w]/g, '_'), name: name });
        var defs = modeler.getDefinitions();
        modeling.updateModdleProperties(element, defs, { rootElements: defs.rootElements.concat([message]) });
        modeling.updateModdleProperties(element, def, { messageRef: message });
        node.value = '';
        render(element);
      }), '输入名称后按回车，新建并选用该消息。'));
      var throwing = is(bo, 'bpmn:IntermediateThrowEvent') || is(bo, 'bpmn:EndEvent');
      if (throwing) {
        nodes.push(field('消息内容（messagePayload）', textarea('payload', bodyExt(def, 'spiffworkflow:MessagePayload'), function (v) {
          setBodyExt(element, def, 'spiffworkflow:MessagePayload', v.trim());
        }, 4), '字典表达式，须含 correlate（接收方的关联条件），如 {"correlate": {"session_id": session_id}, "result": result}'));
      } else {
        nodes.push(el('p', { class: 'help', text: '接收方按 model.json 的 correlation_keys（' +
          ((state.model && state.model.correlation_keys) || []).join('、') + '）与消息内容中的 correlate 匹配。' }));
      }
      return nodes;
    }

    function decisionSection(element) {
      var bo = element.businessObject;
      var choices = [['', '（未选择）']].concat(config.decisions.map(function (d) { return [d.id, d.id + '（' + d.file + '）']; }));
      return [heading('决策表'), field('调用的决策（calledDecisionId）', select('decision', bodyExt(bo, 'spiffworkflow:CalledDecisionId'), choices,
        function (v) { setBodyExt(element, bo, 'spiffworkflow:CalledDecisionId', v); }))];
    }

    function callSection(element) {
      var bo = element.businessObject;
      return [heading('调用活动'), field('被调用的流程（calledElement）', input('called-element', bo.calledElement, function (v) {
        modeling.updateProperties(element, { calledElement: v || undefined });
      }))];
    }

    function serviceSection(element) {
      var bo = element.businessObject;
      var operator = findExt(bo, 'spiffworkflow:ServiceTaskOperator');
      var nodes = [heading('服务')];
      nodes.push(field('服务（serviceTaskOperator）', select('service', operator && operator.id,
        [['', '（未选择）']].concat(config.services.map(function (s) { return [s, s]; })), function (v) {
          if (operator) { modeling.updateModdleProperties(element, operator, { id: v || undefined }); } else if (v) {
            addExt(element, bo, moddle.create('spiffworkflow:ServiceTaskOperator', { id: v, parameterList: moddle.create('spiffworkflow:Parameters', { parameters: [] }) }));
          }
        })));
      nodes.push(field('后置脚本（postScript）', textarea('post-script', bodyExt(bo, 'spiffworkflow:PostScript'), function (v) {
        setBodyExt(element, bo, 'spiffworkflow:PostScript', v.trim());
      }, 3)));
      return nodes;
    }

    // -- lanes (model.json) ---------------------------------------------------------------------
    function lanes() {
      if (!state.model || typeof state.model !== 'object') { return null; }
      state.model.lanes = state.model.lanes || {};
      return state.model.lanes;
    }

    function renameLane(oldName, newName) {
      var map = lanes();
      if (!map || !oldName || !newName || oldName === newName || !map[oldName] || map[newName]) { return; }
      var renamed = {};
      Object.keys(map).forEach(function (key) { renamed[key === oldName ? newName : key] = map[key]; });
      state.model.lanes = renamed;
      state.modelDirty = true;
    }

    function laneSection(element) {
      var bo = element.businessObject;
      var map = lanes();
      if (!map) { return [heading('泳道映射'), el('p', { class: 'error', text: 'model.json 无法解析，不能编辑泳道映射。' })]; }
      var entry = map[bo.name || ''];
      var nodes = [heading('泳道映射（model.json）')];
      if (!entry) {
        nodes.push(el('p', { class: 'notice notice-error', id: 'lane-unmapped', text: '泳道“' + (bo.name || '') + '”没有映射到角色：其中的任务将无人办理。' }));
        var add = el('button', { type: 'button', class: 'btn', id: 'lane-add-mapping', text: '添加映射' });
        add.disabled = !config.editable || !bo.name;
        add.addEventListener('click', function () { map[bo.name] = { role: '' }; state.modelDirty = true; render(element); });
        nodes.push(add);
        return nodes;
      }
      function update(key, value) {
        if (value === '' || value === undefined || (Array.isArray(value) && !value.length)) { delete entry[key]; } else { entry[key] = value; }
        state.modelDirty = true;
        window.Studio.status('泳道映射已修改，保存草稿时一并保存 model.json', 'info');
      }
      var roles = [['', '（未选择）']].concat(Object.keys(config.roles).map(function (r) { return [r, config.roles[r] + '（' + r + '）']; }));
      nodes.push(field('角色', select('lane-role', entry.role, roles, function (v) { update('role', v); })));
      nodes.push(field('其他可办理角色（逗号分隔）', input('lane-alt-roles', (entry.alt_roles || []).join(', '), function (v) {
        update('alt_roles', v.split(/[,，、\s]+/).filter(Boolean));
      })));
      nodes.push(field('机构范围变量（org_var）', input('lane-org-var', entry.org_var, function (v) { update('org_var', v); }),
        '案件数据中保存办理机构名称的变量，如 employer_org；留空表示不限机构。'));
      nodes.push(field('指派（assign）', select('lane-assign', entry.assign, [['', '（按角色与机构）'], ['starter', '发起人本人（starter）']],
        function (v) { update('assign', v); })));
      return nodes;
    }

    // -- rendering ----------------------------------------------------------------------------
    function eventDefinition(bo, type) {
      return (bo.eventDefinitions || []).filter(function (d) { return is(d, type); })[0];
    }

    function sections(element) {
      var bo = element.businessObject;
      var nodes = general(element);
      if (is(bo, 'bpmn:UserTask') || (is(bo, 'bpmn:StartEvent') && !bo.eventDefinitions)) { nodes = nodes.concat(formSection(element)); }
      if (is(bo, 'bpmn:ScriptTask')) { nodes = nodes.concat(scriptSection(element)); }
      if (is(bo, 'bpmn:SequenceFlow')) { nodes = nodes.concat(conditionSection(element)); }
      if (is(bo, 'bpmn:BusinessRuleTask')) { nodes = nodes.concat(decisionSection(element)); }
      if (is(bo, 'bpmn:CallActivity')) { nodes = nodes.concat(callSection(element)); }
      if (is(bo, 'bpmn:ServiceTask')) { nodes = nodes.concat(serviceSection(element)); }
      if (is(bo, 'bpmn:Lane')) { nodes = nodes.concat(laneSection(element)); }
      var timer = eventDefinition(bo, 'bpmn:TimerEventDefinition');
      if (timer) { nodes = nodes.concat(timerSection(element, timer)); }
      var message = eventDefinition(bo, 'bpmn:MessageEventDefinition');
      if (message) { nodes = nodes.concat(messageSection(element, message)); }
      return nodes;
    }

    var TYPE_LABELS = {
      'bpmn:UserTask': '用户任务', 'bpmn:ScriptTask': '脚本任务', 'bpmn:ServiceTask': '服务任务',
      'bpmn:BusinessRuleTask': '业务规则任务', 'bpmn:CallActivity': '调用活动', 'bpmn:SequenceFlow': '顺序流',
      'bpmn:StartEvent': '开始事件', 'bpmn:EndEvent': '结束事件', 'bpmn:IntermediateCatchEvent': '中间捕获事件',
      'bpmn:IntermediateThrowEvent': '中间抛出事件', 'bpmn:BoundaryEvent': '边界事件', 'bpmn:ExclusiveGateway': '排他网关',
      'bpmn:ParallelGateway': '并行网关', 'bpmn:InclusiveGateway': '包容网关', 'bpmn:Lane': '泳道',
      'bpmn:Participant': '池（参与者）', 'bpmn:SubProcess': '子流程', 'bpmn:Task': '任务', 'bpmn:Process': '流程'
    };

    function render(element) {
      current = element;
      root.innerHTML = '';
      root.removeAttribute('data-element-id');
      if (!element || element.type === 'label') {
        root.appendChild(el('p', { class: 'muted', text: '选择一个元素以编辑其属性。' }));
        return;
      }
      var bo = element.businessObject;
      root.appendChild(el('h2', { text: (TYPE_LABELS[bo.$type] || bo.$type) + ' 属性', id: 'panel-title' }));
      root.setAttribute('data-element-id', bo.id);
      (state.problems || []).filter(function (p) { return p.element_id === bo.id; }).forEach(function (p) {
        root.appendChild(el('p', { class: 'notice notice-error studio-element-problem', text: p.message }));
      });
      sections(element).forEach(function (node) { root.appendChild(node); });
    }

    modeler.get('eventBus').on('selection.changed', function (event) {
      render(event.newSelection.length === 1 ? event.newSelection[0] : null);
    });
    modeler.get('eventBus').on('elements.changed', function (event) {
      if (!current) { return; }
      var touched = event.elements.some(function (e) { return e === current || e.id === current.id; });
      var active = document.activeElement;
      if (touched && !(active && root.contains(active) && active.tagName !== 'BUTTON')) { render(elementRegistry.get(current.id) || null); }
    });

    return { render: render, current: function () { return current; } };
  }

  window.StudioPanel = { create: createPanel };
})();
